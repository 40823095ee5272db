"""Wheel build hook: copy the top-level folders named in pyproject.toml (``bundled``: notebooks/, data/) into
the package, so an installed wheel holds them (``specnb.resources`` finds them). Only for a regular wheel: an
editable install reads them from the checkout, and a copy there would shadow the package itself."""

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class BundleHook(BuildHookInterface):
    def initialize(self, version: str, build_data: dict) -> None:
        if version == "standard":
            build_data["force_include"].update(self.config["bundled"])
