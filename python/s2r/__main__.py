"""``s2r`` and ``python -m s2r``: the s2r program installed with this
package (_native/bin/s2r). The process becomes that C program, so its
options, output, messages and exit status are the program's own. Only
os and sys are imported on the way, to start fast."""
from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import NoReturn

PROGRAM = os.path.join(os.path.dirname(os.path.realpath(__file__)),
                       "_native", "bin", "s2r")


def main() -> NoReturn:
    """Replace this process with the s2r program, arguments unchanged."""
    if not os.access(PROGRAM, os.X_OK):
        sys.exit(f"s2r: {PROGRAM} is missing or not executable; "
                 "reinstall the s2r package")
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(PROGRAM, ["s2r", *sys.argv[1:]])


if __name__ == "__main__":
    main()
