"""Prices, discounts, taxes and shipping fees."""

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

TAX_RATES = {
    "KR": Decimal("0.10"),
    "DE": Decimal("0.19"),
    "US-CA": Decimal("0.0725"),
}

FREE_SHIPPING_THRESHOLD = Decimal("50.00")


class CouponExpired(Exception):
    """The coupon's validity ended before the order date."""


@dataclass(frozen=True)
class Coupon:
    code: str
    percent_off: Decimal
    expires_on: date
    minimum_subtotal: Decimal = Decimal("0")

    def is_valid_on(self, day: date) -> bool:
        return day <= self.expires_on


def round_money(amount: Decimal) -> Decimal:
    """Round to whole cents, half up, as the payment provider does."""
    return amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def apply_coupon(subtotal: Decimal, coupon: Coupon, today: date) -> Decimal:
    """Return the discount the coupon gives on subtotal."""
    if not coupon.is_valid_on(today):
        raise CouponExpired(coupon.code)
    if subtotal < coupon.minimum_subtotal:
        return Decimal("0")
    return round_money(subtotal * coupon.percent_off / 100)


def tax_for(region: str, taxable: Decimal) -> Decimal:
    """Return the sales tax of a taxable amount in region."""
    rate = TAX_RATES.get(region, Decimal("0"))
    return round_money(taxable * rate)


def shipping_fee(weight_grams: int, subtotal: Decimal) -> Decimal:
    """Flat fee per started kilogram; free above the threshold."""
    if subtotal >= FREE_SHIPPING_THRESHOLD:
        return Decimal("0")
    kilograms = max(1, -(-weight_grams // 1000))
    return Decimal("4.90") + Decimal("1.50") * (kilograms - 1)
