"""Domain objects of the shop: items, carts and orders."""

from dataclasses import dataclass, field
from decimal import Decimal
from enum import Enum


class OrderStatus(Enum):
    PENDING = "pending"
    PAID = "paid"
    SHIPPED = "shipped"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class Item:
    sku: str
    name: str
    unit_price: Decimal
    weight_grams: int = 0


@dataclass
class CartLine:
    item: Item
    quantity: int

    @property
    def line_total(self) -> Decimal:
        return self.item.unit_price * self.quantity


@dataclass
class Cart:
    customer_id: str
    region: str
    lines: list[CartLine] = field(default_factory=list)

    def add(self, item: Item, quantity: int = 1) -> None:
        for line in self.lines:
            if line.item.sku == item.sku:
                line.quantity += quantity
                return
        self.lines.append(CartLine(item, quantity))

    @property
    def subtotal(self) -> Decimal:
        return sum((line.line_total for line in self.lines), Decimal("0"))

    @property
    def total_weight(self) -> int:
        return sum(line.item.weight_grams * line.quantity for line in self.lines)


@dataclass
class Order:
    order_id: str
    customer_id: str
    lines: list[CartLine]
    subtotal: Decimal
    discount: Decimal
    tax: Decimal
    shipping: Decimal
    status: OrderStatus = OrderStatus.PENDING

    @property
    def grand_total(self) -> Decimal:
        return self.subtotal - self.discount + self.tax + self.shipping
