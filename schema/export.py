"""Write the schema's SDL to schema/schema.graphql: ``python -m schema.export``."""

from __future__ import annotations

from pathlib import Path

from schema.root import build_schema
from shared.settings import Settings

SDL_PATH = Path(__file__).with_name("schema.graphql")


def sdl() -> str:
    return build_schema(Settings()).as_str() + "\n"


def main() -> None:
    SDL_PATH.write_text(sdl(), encoding="utf-8")
    print(f"wrote {SDL_PATH}")


if __name__ == "__main__":
    main()
