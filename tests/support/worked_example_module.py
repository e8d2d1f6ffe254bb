"""docs/architecture.md's worked example as a module of its own: importing it runs the
section's code blocks here, registering the dry port kind and the slow_share KPI, as a
user's extension does (`cqsim run --import tests.support.worked_example_module ...`).

Import it only in a process of its own (a `cqsim` subprocess): what it registers stays for
the life of the process (the tests' own fixture runs the blocks and unregisters them)."""

from tests.support.worked_example import DOC, example_code

for _block in example_code():
    exec(compile(_block, str(DOC), "exec"), globals())
