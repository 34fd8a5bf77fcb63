from shop.errors import InventoryError


def reserve(stock, item, qty):
    try:
        left = stock[item]
    except KeyError as exc:
        raise InventoryError(f"cannot reserve {qty} x {item}: not stocked") from exc
    stock[item] = left - qty
