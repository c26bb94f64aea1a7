"""``simbench.store.load`` and friends, where the README promises them; the store lives in ``simbench.core.store``."""
from simbench.core.store import Store, StoreError, Unit, load, read_manifest  # noqa: F401
