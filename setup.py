"""Packaging beside pyproject.toml: the repository's top-level `seeds/` ships inside the
package as `sim.seeds` (found with importlib.resources), so `cqsim calibrate` works from any
install, editable or not."""

from setuptools import find_packages, setup

setup(
    packages=find_packages(include=["sim", "sim.*"]) + ["sim.seeds"],
    package_dir={"sim.seeds": "seeds"},
    package_data={"sim.seeds": ["*.csv", "*.txt", "*.md"]},
)
