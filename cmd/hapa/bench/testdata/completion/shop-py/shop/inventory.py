"""Stock levels and reservations."""

import threading
from collections import defaultdict


class OutOfStock(Exception):
    def __init__(self, sku: str, wanted: int, available: int):
        super().__init__(f"{sku}: wanted {wanted}, {available} available")
        self.sku = sku
        self.wanted = wanted
        self.available = available


class Inventory:
    """Counts stock per SKU; reservations hold units until an order is paid."""

    def __init__(self, stock: dict[str, int]):
        self._stock = dict(stock)
        self._reserved: dict[str, int] = defaultdict(int)
        self._lock = threading.Lock()

    def available(self, sku: str) -> int:
        with self._lock:
            return self._stock.get(sku, 0) - self._reserved[sku]

    def reserve(self, sku: str, quantity: int) -> None:
        with self._lock:
            free = self._stock.get(sku, 0) - self._reserved[sku]
            if quantity > free:
                raise OutOfStock(sku, quantity, free)
            self._reserved[sku] += quantity

    def release(self, sku: str, quantity: int) -> None:
        with self._lock:
            self._reserved[sku] = max(0, self._reserved[sku] - quantity)

    def commit(self, sku: str, quantity: int) -> None:
        with self._lock:
            self._reserved[sku] -= quantity
            self._stock[sku] -= quantity
