"""Who may reach each route: the app's URL map checked against an explicit table.

`accounts.access.roles_required` records the roles it lets in on the view (`allowed_roles`);
a view without it is public. The table below is written out by hand (generated once, then
reviewed line by line), so adding a route, or loosening one, fails here until someone decides
who may reach it. Actual responses per role are swept in tests/accounts/test_access_sweep.py.
"""

from __future__ import annotations

from accounts.models import Role

PUBLIC = "public"
ADMIN = frozenset({Role.ADMIN})
MANAGERS = frozenset({Role.ADMIN, Role.MANAGER})
STAFF = frozenset({Role.ADMIN, Role.MANAGER, Role.KASIR})
MAKER = frozenset({Role.MAKER})

# Reviewed: every PUBLIC entry is meant for anonymous visitors —
# login/logout pages, health, language switch, static files, the PWA manifest and service worker,
# the e-receipt by its unguessable token, the storefront (catalogue, product, Sentra, maker page
# with only consented fields, cart, checkout), the order pages by their unguessable token
# (status, invoice, payment, 3-D Secure, return from the gateway), the buyer's account pages
# (`shop.buyer_orders_view` checks the buyer login itself: tests/security/test_idor.py), the
# Stripe webhook (signature-checked) and photos (`inventory.photo`: a maker's portrait only with
# consent, also in test_idor.py).
EXPECTED: dict[str, frozenset[Role] | str] = {
    "accounts.login": PUBLIC,
    "accounts.logout": PUBLIC,
    "accounts.maker_login": PUBLIC,
    "makers.maker_user_create": ADMIN,
    "accounts.user_access": ADMIN,
    "accounts.user_create": ADMIN,
    "accounts.own_approval_pin": MANAGERS,
    "accounts.user_list": ADMIN,
    "accounts.user_pin_reset": ADMIN,
    "app.audit_log": MANAGERS,
    "app.alert_list": MANAGERS,
    "app.alert_resolve": MANAGERS,
    "app.health": PUBLIC,
    "app.language_set": PUBLIC,
    # no role: answered only to loopback or a Bearer METRICS_TOKEN, else 404 (tests/core/test_metrics.py)
    "app.metrics": PUBLIC,
    "app.staff_home": STAFF,
    "inventory.adjust": MANAGERS,
    "inventory.api_product_lookup": STAFF,
    "makers.consent_create": MANAGERS,
    "makers.consent_revoke": MANAGERS,
    "makers.group_create": MANAGERS,
    "makers.group_edit": MANAGERS,
    "makers.group_list": MANAGERS,
    "inventory.intake_create": MANAGERS,
    "inventory.intake_detail": MANAGERS,
    "inventory.intake_list": MANAGERS,
    "inventory.intake_pdf": MANAGERS,
    "inventory.label_pdf": STAFF,
    "inventory.label_select": STAFF,
    "makers.maker_create": MANAGERS,
    "makers.maker_detail": MANAGERS,
    "makers.maker_edit": MANAGERS,
    "makers.maker_list": MANAGERS,
    "makers.maker_photo_set": MANAGERS,
    "inventory.photo": PUBLIC,
    "inventory.product_create": MANAGERS,
    "inventory.product_detail": STAFF,
    "inventory.product_edit": MANAGERS,
    "inventory.product_list": STAFF,
    "inventory.product_photo_add": MANAGERS,
    "inventory.product_remove": MANAGERS,
    "inventory.product_restore": MANAGERS,
    "sentras.sentra_create": ADMIN,
    "sentras.sentra_edit": ADMIN,
    "sentras.sentra_list": ADMIN,
    "inventory.stock_list": STAFF,
    "inventory.transfer": MANAGERS,
    "payouts.line_method": MANAGERS,
    "payouts.line_slip_pdf": MANAGERS,
    "payouts.line_slip_scan": MANAGERS,
    "payouts.line_slip_upload": MANAGERS,
    "payouts.maker_statement_pdf": MANAGERS,
    "payouts.portal_home": MAKER,
    "payouts.portal_payouts": MAKER,
    "payouts.portal_sales": MAKER,
    "payouts.portal_sales_csv": MAKER,
    "payouts.portal_slip_pdf": MAKER,
    "payouts.portal_slip_scan": MAKER,
    "payouts.portal_statement_pdf": MAKER,
    "payouts.portal_stock": MAKER,
    "payouts.run_approve": MANAGERS,
    "payouts.run_cancel": MANAGERS,
    "payouts.run_detail": MANAGERS,
    "payouts.run_list": MANAGERS,
    "payouts.run_pay_cash": MANAGERS,
    "payouts.run_references": MANAGERS,
    "payouts.run_transfer_csv": MANAGERS,
    "pos.api_catalogue": STAFF,
    "pos.api_device_register": STAFF,
    "pos.api_products": STAFF,
    "pos.api_refund_create": STAFF,
    "pos.api_sale_create": STAFF,
    "pos.api_session": STAFF,
    "pos.api_visitor_count": STAFF,
    "pos.api_visitor_get": STAFF,
    "pos.ereceipt": PUBLIC,
    "pos.index": STAFF,
    "pos.manifest": PUBLIC,
    "pos.printer_settings": STAFF,
    "pos.printer_test_escpos": STAFF,
    "pos.printer_test_pdf": STAFF,
    "pos.receipt_escpos": STAFF,
    "pos.receipt_pdf": STAFF,
    "pos.refund_create": STAFF,
    "pos.refund_slip_escpos": STAFF,
    "pos.refund_slip_pdf": STAFF,
    "pos.sale_detail": STAFF,
    "pos.sale_history": STAFF,
    "pos.sale_screen": STAFF,
    "pos.service_worker": PUBLIC,
    "pos.shift_close": STAFF,
    "pos.shift_detail": STAFF,
    "pos.stock_conflict_resolve": MANAGERS,
    "pos.stock_conflicts": MANAGERS,
    "pos.z_report_escpos": STAFF,
    "pos.z_report_pdf": STAFF,
    "reports.export_csv": MANAGERS,
    "reports.export_pdf": MANAGERS,
    "reports.export_xlsx": MANAGERS,
    "reports.summary": MANAGERS,
    "shop.buyer_login": PUBLIC,
    "shop.buyer_password_forgot": PUBLIC,
    "shop.buyer_password_reset": PUBLIC,
    "shop.robots": PUBLIC,
    "shop.sitemap": PUBLIC,
    "shop.buyer_orders_view": PUBLIC,
    "shop.buyer_register": PUBLIC,
    "shop.cart_add": PUBLIC,
    "shop.cart_remove": PUBLIC,
    "shop.cart_update": PUBLIC,
    "shop.cart_view": PUBLIC,
    "shop.catalogue": PUBLIC,
    "shop.checkout": PUBLIC,
    "shop.home": PUBLIC,
    "shop.maker_detail": PUBLIC,
    "shop.order_3ds": PUBLIC,
    "shop.order_3ds_complete": PUBLIC,
    "shop.order_invoice": PUBLIC,
    "shop.order_pay": PUBLIC,
    "shop.order_return": PUBLIC,
    "shop.order_status": PUBLIC,
    "shop.order_status_json": PUBLIC,
    "shop.product_detail": PUBLIC,
    "shop.sentra_detail": PUBLIC,
    "shop.staff_cancel": STAFF,
    "shop.staff_complete": STAFF,
    "shop.staff_fulfilment": STAFF,
    "shop.staff_orders": STAFF,
    "shop.staff_pick_list": STAFF,
    "shop.staff_pick_list_all": STAFF,
    "shop.staff_ready": STAFF,
    "shop.staff_refund": STAFF,
    "shop.staff_refund_retry": STAFF,
    "shop.staff_ship": STAFF,
    "shop.stripe_webhook": PUBLIC,
    "static": PUBLIC,
}

# Public routes that accept a POST: each changes only the visitor's own state (session, cart,
# order by token, a password by its mailed one-time link) or is authenticated otherwise (webhook signature).
PUBLIC_POSTS = {
    "accounts.login", "accounts.logout", "accounts.maker_login", "app.language_set",
    "shop.buyer_login", "shop.buyer_password_forgot", "shop.buyer_password_reset", "shop.buyer_register",
    "shop.cart_add", "shop.cart_remove", "shop.cart_update",
    "shop.checkout", "shop.order_3ds_complete", "shop.order_pay", "shop.stripe_webhook",
}


def actual_table(app) -> dict[str, frozenset[Role] | str]:
    table: dict[str, frozenset[Role] | str] = {}
    for endpoint, view in app.view_functions.items():
        allowed = getattr(view, "allowed_roles", None)
        table[endpoint] = PUBLIC if allowed is None else frozenset(allowed)
    return table


def test_every_route_has_the_reviewed_roles(app):
    actual = actual_table(app)
    new = sorted(set(actual) - set(EXPECTED))
    gone = sorted(set(EXPECTED) - set(actual))
    assert not new, f"routes missing from the reviewed table (decide who may reach them): {new}"
    assert not gone, f"routes in the table that no longer exist: {gone}"
    changed = {e: (EXPECTED[e], actual[e]) for e in actual if actual[e] != EXPECTED[e]}
    assert not changed, f"roles differ from the reviewed table (expected, actual): {changed}"


def test_public_state_changing_routes_are_the_reviewed_ones(app):
    writes = {"POST", "PUT", "PATCH", "DELETE"}
    posts = {rule.endpoint for rule in app.url_map.iter_rules()
             if EXPECTED.get(rule.endpoint) == PUBLIC and writes & set(rule.methods or ())}
    assert posts == PUBLIC_POSTS


def test_no_staff_or_maker_area_is_public(app):
    """Whole areas that must never have an anonymous page, whatever the table says."""
    for rule in app.url_map.iter_rules():
        protected_prefixes = ("/staf", "/accounts/pengguna", "/payouts", "/reports", "/pos/api",
                              "/inventory/api", "/pos/penjualan", "/pos/sesi", "/pos/konflik", "/pos/retur",
                              "/pos/printer")
        if rule.rule.startswith(protected_prefixes):
            assert EXPECTED[rule.endpoint] != PUBLIC, rule.rule


def test_table_is_checked_against_the_decorator():
    """The check cannot pass vacuously: a public entry is told apart from a protected one."""
    assert EXPECTED["accounts.user_list"] == ADMIN and EXPECTED["shop.catalogue"] == PUBLIC
    assert sum(1 for v in EXPECTED.values() if v == PUBLIC) < len(EXPECTED) // 2
