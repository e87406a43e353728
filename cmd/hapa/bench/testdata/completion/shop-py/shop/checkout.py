"""Turning a cart into an order."""

import uuid
from datetime import date
from decimal import Decimal

from shop.inventory import Inventory, OutOfStock
from shop.models import Cart, Order, OrderStatus
from shop.pricing import Coupon, apply_coupon, round_money, shipping_fee, tax_for


def reserve_all(cart: Cart, inventory: Inventory) -> None:
    """Reserve every line of the cart, or none of them."""
    done = []
    try:
        for line in cart.lines:
            inventory.reserve(line.item.sku, line.quantity)
            done.append(line)
    except OutOfStock:
        for line in done:
            inventory.release(line.item.sku, line.quantity)
        raise


def checkout(cart: Cart, inventory: Inventory, coupon: Coupon | None = None, today: date | None = None) -> Order:
    today = today or date.today()
    reserve_all(cart, inventory)
    subtotal = cart.subtotal
    discount = apply_coupon(subtotal, coupon, today) if coupon else Decimal("0")
    tax = tax_for(cart.region, subtotal - discount)
    shipping = shipping_fee(cart.total_weight, subtotal)
    return Order(
        order_id=str(uuid.uuid4()),
        customer_id=cart.customer_id,
        lines=list(cart.lines),
        subtotal=round_money(subtotal),
        discount=discount,
        tax=tax,
        shipping=shipping,
    )


def mark_paid(order: Order, inventory: Inventory) -> None:
    for line in order.lines:
        inventory.commit(line.item.sku, line.quantity)
    order.status = OrderStatus.PAID


def cancel(order: Order, inventory: Inventory) -> None:
    if order.status is OrderStatus.PENDING:
        for line in order.lines:
            inventory.release(line.item.sku, line.quantity)
    order.status = OrderStatus.CANCELLED
