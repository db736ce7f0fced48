import sys

from nwot.cli.main import main

sys.exit(main())
