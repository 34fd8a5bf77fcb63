class InventoryError(Exception):
    pass
