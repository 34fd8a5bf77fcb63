from shop.inventory import reserve

reserve({"apple": 3}, "pear", 2)
