"""``python -m sim.bench``: the same as ``p2psim bench``."""

from sim.bench.main import main

raise SystemExit(main())
