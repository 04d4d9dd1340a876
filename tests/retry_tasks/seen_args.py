"""A task that appends the arguments it was built with to $SEEN_FILE (one repr a line),
so a test can compare what a run and its retry were given."""

import os

from evalkit import Task, task
from evalkit.dataset import Sample


@task
def seen(**args: object) -> Task:
    with open(os.environ["SEEN_FILE"], "a") as out:
        out.write(repr(sorted(args.items())) + "\n")
    return Task(dataset=[Sample(id=1, input="a", target="a")])
