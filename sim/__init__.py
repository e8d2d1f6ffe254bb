"""cqsim: discrete-event simulation of Chongqing's opening-up freight corridors."""
