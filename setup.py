"""Build hook: compile the translation catalogs into the wheel.

The .po files in the top-level `locales/` stay the one source of truth (translators and
`make extract` work there; compiled .mo files are not committed). Building a wheel compiles
each catalog into `bot/locales/<lang>/LC_MESSAGES/messages.mo` inside the wheel, where
`bot/i18n.py` finds it through importlib.resources. An editable install skips this: it
reads the checkout's `locales/` (`make catalogs` compiles them there).
"""

from __future__ import annotations

from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from setuptools import setup
from setuptools.command.build_py import build_py

SOURCE = Path(__file__).resolve().parent / "locales"
DOMAIN = "messages"


class BuildPyWithCatalogs(build_py):
    """`build_py`, then every `locales/*/LC_MESSAGES/messages.po` compiled into the build."""

    def run(self) -> None:
        super().run()
        if self.editable_mode:
            return
        catalogs = sorted(SOURCE.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))
        if not catalogs:
            raise SystemExit(f"no translation catalogs in {SOURCE}: the wheel would not start")
        for po_file in catalogs:
            language = po_file.parent.parent.name
            target = Path(self.build_lib, "bot", "locales", language, "LC_MESSAGES")
            target.mkdir(parents=True, exist_ok=True)
            with po_file.open("rb") as handle:
                catalog = read_po(handle, locale=language, domain=DOMAIN)
            with (target / f"{DOMAIN}.mo").open("wb") as handle:
                write_mo(handle, catalog, use_fuzzy=False)


setup(cmdclass={"build_py": BuildPyWithCatalogs})
