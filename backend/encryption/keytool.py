"""Keys without the app (the app will not start without them):

    python -m backend.encryption.keytool new KEY_ID    print a new data key and index key
    python -m backend.encryption.keytool dev INSTANCE  `make run`'s development keys, made once

A server in production gets its keys from the environment (DOORSTEP_DATA_KEY,
DOORSTEP_INDEX_KEY); `dev` is for `make run` alone (ADR 0020).
"""

from __future__ import annotations

import sys
from pathlib import Path

from backend.encryption.keys import (
    ENV_DATA_KEY,
    ENV_INDEX_KEY,
    new_index_key_text,
    new_key_text,
)


def ensure_development_keys(instance_dir: str) -> list[Path]:
    folder = Path(instance_dir)
    folder.mkdir(parents=True, exist_ok=True)
    made = []
    for name, make in (("data_key", lambda: new_key_text("dev1")),
                       ("index_key", new_index_key_text)):
        path = folder / name
        if not path.exists():
            path.write_text(make() + "\n")
            path.chmod(0o600)
            made.append(path)
    return made


def main(args: list[str]) -> int:
    if len(args) == 2 and args[0] == "new":
        print(f"{ENV_DATA_KEY}={new_key_text(args[1])}")
        print(f"{ENV_INDEX_KEY}={new_index_key_text()}  # only for a new database: the index "
              "key is not rotated")
        return 0
    if len(args) == 2 and args[0] == "dev":
        for path in ensure_development_keys(args[1]):
            print(f"made a development key {path} (keep it: the database is sealed with it)")
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
