import sys

from tagbox.cli import main

sys.exit(main())
