"""What DSN knows about one plugin: where it came from, what it provides, what failed."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class PluginInfo:
    """What ``dsn plugins`` and the admin show for one plugin."""

    name: str
    module: str
    origin: str  # "builtin", "entry point", "setting" or "test"
    distribution: str | None = None
    version: str | None = None
    provides: dict[str, list[str]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)  # subcommand names it registered
    loaded: bool = False
    blocked: bool = False  # listed in DSN["BLOCKED_PLUGINS"]: found, never imported

    @property
    def status(self) -> str:
        if self.blocked:
            return "blocked"
        return "loaded" if self.loaded else "failed"

    @property
    def display_name(self) -> str:
        return self.distribution or self.name

    @property
    def hint(self) -> str:
        if self.origin == "entry point" and self.distribution:
            return (
                f"Upgrade or uninstall {self.distribution} (pip install -U {self.distribution}), "
                f"or add {self.name!r} to DSN['BLOCKED_PLUGINS']."
            )
        if self.origin == "setting":
            return f"Fix or remove {self.module!r} in DSN['PLUGINS']."
        return "Fix the plugin or block it with DSN['BLOCKED_PLUGINS']."
