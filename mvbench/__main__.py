import sys

from mvbench.cli import main

sys.exit(main())
