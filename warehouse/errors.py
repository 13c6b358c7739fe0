"""The warehouse's exceptions; the CLI and the dashboard translate them into messages."""


class WarehouseError(Exception):
    """Base of every warehouse error."""


class WarehouseBusy(WarehouseError):
    """The warehouse file is held by another writer process."""


class WarehouseMissing(WarehouseError):
    """No warehouse exists yet: nothing has been ingested."""


class QueryRefused(WarehouseError):
    """A user query broke a rule of the SQL sandbox or failed; the message names the rule."""
