"""Storefront, cart, checkout, payment, order status, invoices, the Stripe webhook, and staff orders."""

from __future__ import annotations

import contextlib
import uuid
from datetime import date
from typing import TYPE_CHECKING, cast

import sqlalchemy as sa
from flask import (
    Response,
    abort,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from accounts.access import require_sentra_access, scoped_sentra_ids, staff_required
from accounts.models import Role
from accounts.services import remember_device
from accounts.throttle import DEVICE_COOKIE, set_device_cookie
from core.db import utcnow
from core.errors import DomainError, problem
from core.extensions import csrf, db
from core.money import parse_rupiah
from core.pdf import render_pdf
from core.security import allow_stripe_js
from core.unit_of_work import after_commit, commit_before_refusal, commit_now, refusals_flashed, rollback_now, writes
from inventory.models import Product
from makers.models import Maker
from sentras.models import Sentra
from shop import bp, seo
from shop import cart as carts
from shop.checkout import (
    BuyerDetails,
    apply_result,
    cancel_intents,
    create_order,
    expire_if_due,
    fulfil_order,
    get_order_by_token,
    lock_order,
    mark_attempt_error,
    order_available_now,
    start_attempt,
)
from shop.forms import AddToCartForm, CartUpdateForm, CheckoutForm, PayForm, ReasonForm, RefundForm, TrackingForm
from shop.messages import notify_buyer, whatsapp_link
from shop.models import DeliveryMethod, Fulfilment, Order, OrderRefund, OrderStatus, PaymentAttempt, PaymentRefund
from shop.refunds import send_refunds
from shop.services import (
    SORTS,
    CatalogueFilters,
    cancel_order,
    check_cancellable,
    complete_refund,
    featured_products,
    filter_choices,
    fulfilment_queue,
    maker_public,
    mark_completed,
    mark_ready,
    mark_shipped,
    plan_refund,
    public_maker_or_404,
    remember_address,
    require_manager_for_refund,
    saved_addresses,
    search_catalogue,
)
from shop.stripe_gateway import LOCAL_TEST_METHODS, PaymentUnavailable, gateway
from shop.webhooks import REFUND_OUTCOMES, plan_auto_refund

if TYPE_CHECKING:
    from werkzeug.wrappers import Response as BaseResponse

CART_COOKIE = "cart"


# -- helpers ---------------------------------------------------------------------------------------


def photo_url(sha256: str | None) -> str | None:
    """URL of a stored photo (by the hash of its bytes) through the inventory photo route (None if
    there is none, or photos are not served)."""
    if not sha256 or "inventory.photo" not in current_app.view_functions:
        return None
    return url_for("inventory.photo", sha256=sha256)


@bp.app_context_processor
def _shop_helpers():
    return {"shop_photo_url": photo_url, "shop_cart_count": _cart_count}


def _cart_count() -> int:
    cart = g.get("shop_cart")
    if cart is None and (request.cookies.get(CART_COOKIE) or _buyer_id()):
        cart = carts.find_cart(request.cookies.get(CART_COOKIE), _buyer_id())
    return carts.item_count(cart)


def _buyer_id() -> int | None:
    if current_user.is_authenticated and current_user.role == Role.BUYER:
        return current_user.id
    return None


def current_cart(create: bool = False):
    """The visitor's cart; a guest cart joins the buyer's cart once they are logged in."""
    token = request.cookies.get(CART_COOKIE)
    buyer_id = _buyer_id()
    cart = carts.find_cart(None, buyer_id) if buyer_id else None
    guest = carts.find_cart(token, None) if token else None
    if buyer_id is not None:
        if cart is None and (guest is not None or create):
            cart = carts.new_cart(buyer_id)
        if guest is not None and cart is not None and guest.id != cart.id:
            carts.merge_carts(guest, cart)
            # The guest cookie is dropped only once the merge is saved: a page that fails keeps it,
            # and the next page merges again.
            after_commit(lambda: setattr(g, "clear_cart_cookie", True))
    else:
        cart = guest
        if cart is None and create:
            cart = carts.new_cart()
            g.set_cart_cookie = cart.token
    g.shop_cart = cart
    return cart


@bp.after_request
def _cart_cookie(response: Response) -> Response:
    if g.get("set_cart_cookie"):
        response.set_cookie(CART_COOKIE, g.set_cart_cookie, max_age=60 * 60 * 24 * 30, httponly=True,
                            samesite="Lax", secure=current_app.config.get("SESSION_COOKIE_SECURE", False))
    elif g.get("clear_cart_cookie"):
        response.delete_cookie(CART_COOKIE)
    return response


def _int_arg(name: str) -> int | None:
    value = request.args.get(name, "").strip()
    return int(value) if value.isdigit() else None


def _rupiah_arg(name: str) -> int | None:
    value = request.args.get(name, "").strip()
    if not value:
        return None
    try:
        return parse_rupiah(value)
    except (DomainError, ValueError):
        return None


def _published_or_404(product_id: int) -> Product:
    product = db.session.get(Product, product_id)
    if product is None or not product.is_published or not product.is_active or not product.sentra.is_active:
        abort(404)
    return product


# -- storefront ------------------------------------------------------------------------------------


@bp.get("/")
def home():
    sentras = db.session.scalars(sa.select(Sentra).where(Sentra.is_active.is_(True)).order_by(Sentra.name)).all()
    return render_template("shop/home.html", products=featured_products(8), sentras=sentras)


@bp.get("/katalog")
def catalogue():
    filters = CatalogueFilters(
        q=request.args.get("q", "")[:80], category=request.args.get("kategori", "")[:60],
        sentra_id=_int_arg("sentra"), province=request.args.get("provinsi", "")[:80],
        price_min=_rupiah_arg("harga_min"), price_max=_rupiah_arg("harga_max"),
        in_stock=request.args.get("tersedia") == "1",
        sort=request.args.get("urut", "") if request.args.get("urut") in SORTS else "",
    )
    filters.sort = filters.sort or ("relevan" if filters.q.strip() else "terbaru")
    page = max(_int_arg("halaman") or 1, 1)
    pagination = search_catalogue(filters, page=page)
    args = {k: v for k, v in request.args.items() if k != "halaman" and v}
    return render_template("shop/catalogue.html", pagination=pagination, filters=filters, sorts=SORTS,
                           choices=filter_choices(), args=args)


@bp.get("/produk/<int:product_id>")
def product_detail(product_id: int, form: AddToCartForm | None = None, status: int = 200):
    product = _published_or_404(product_id)
    form = form or AddToCartForm()
    available = carts.available_quantity(product) if product.is_stock_tracked else None
    first_photo = next((photo_url(p.file_sha256) for p in product.photos if photo_url(p.file_sha256)), None)
    return render_template("shop/product.html", product=product, maker=maker_public(product), form=form,
                           available=available, meta=seo.product_meta(product, first_photo, available)), status


@bp.get("/robots.txt")
def robots():
    return Response(seo.robots_txt(), mimetype="text/plain")


@bp.get("/sitemap.xml")
def sitemap():
    body = render_template("shop/sitemap.xml", urls=seo.sitemap_urls())
    return Response(body, mimetype="application/xml")


@bp.post("/produk/<int:product_id>/keranjang")
def cart_add(product_id: int):
    product = _published_or_404(product_id)
    form = AddToCartForm()
    if not form.validate_on_submit():
        return product_detail(product_id, form=form, status=422)
    cart = current_cart(create=True)
    try:
        carts.add_item(cart, product.id, form.quantity.data, form.service_date.data)
    except DomainError as error:
        rollback_now()  # the product page is shown again with the message: nothing is kept
        g.set_cart_cookie = None
        g.shop_cart = None  # a cart (or merge) made by this request is gone too: count from the database
        field = form.service_date if error.field == "service_date" or "service_date" in getattr(
            error, "errors", {}) else form.quantity
        field.errors = [*field.errors, error.detail]
        return product_detail(product_id, form=form, status=error.status)
    flash(_("%(name)s masuk ke keranjang.", name=product.name), "success")
    return redirect(url_for("shop.cart_view"))


@bp.get("/sentra/<code>")
def sentra_detail(code: str):
    sentra = db.first_or_404(sa.select(Sentra).where(Sentra.code == code, Sentra.is_active.is_(True)))
    page = max(_int_arg("halaman") or 1, 1)
    pagination = search_catalogue(CatalogueFilters(sentra_id=sentra.id), page=page)
    return render_template("shop/sentra.html", sentra=sentra, pagination=pagination, args={})


@bp.get("/pembuat/<int:maker_id>")
def maker_detail(maker_id: int):
    try:
        maker: Maker = public_maker_or_404(maker_id)
    except DomainError:
        abort(404)
    pagination = search_catalogue(CatalogueFilters(maker_id=maker.id), page=max(_int_arg("halaman") or 1, 1))
    return render_template("shop/maker.html", maker=maker, public=maker_public_for(maker), pagination=pagination,
                           args={})


def maker_public_for(maker: Maker):
    from makers.models import ConsentPurpose

    return {
        "name": maker.public_name,
        "story": maker.story if maker.has_consent(ConsentPurpose.SHOP_STORY) else None,
        "photo": maker.photo_thumb_sha256 if maker.has_consent(ConsentPurpose.SHOP_PHOTO) else None,
    }


# -- cart ------------------------------------------------------------------------------------------


@bp.get("/keranjang")
@writes
def cart_view():
    cart = current_cart()
    groups = carts.cart_groups(cart)
    return render_template("shop/cart.html", groups=groups, form=CartUpdateForm(),
                           total=sum(grp.subtotal for grp in groups))


@bp.post("/keranjang/<int:item_id>")
def cart_update(item_id: int):
    cart = current_cart()
    form = CartUpdateForm()
    if cart is None or not form.validate_on_submit():
        flash(_("Jumlah tidak valid (0–99)."), "error")
        return redirect(url_for("shop.cart_view"))
    with refusals_flashed():
        carts.update_item(cart, item_id, form.quantity.data or 0)
        flash(_("Keranjang diperbarui."), "success")
    return redirect(url_for("shop.cart_view"))


@bp.post("/keranjang/<int:item_id>/hapus")
def cart_remove(item_id: int):
    cart = current_cart()
    if cart is not None:
        carts.remove_item(cart, item_id)
    flash(_("Barang dihapus dari keranjang."), "success")
    return redirect(url_for("shop.cart_view"))


# -- checkout and payment --------------------------------------------------------------------------


@bp.route("/checkout", methods=["GET", "POST"])
def checkout():
    cart = current_cart()
    groups = carts.cart_groups(cart)
    if not groups:
        flash(_("Keranjang masih kosong."), "info")
        return redirect(url_for("shop.catalogue"))
    form = CheckoutForm()
    buyer = current_user if current_user.is_authenticated and current_user.role == Role.BUYER else None
    saved = saved_addresses(buyer) if buyer is not None else []
    if request.method == "GET" and buyer is not None:
        form.name.data = form.name.data or buyer.name
        form.email.data = form.email.data or buyer.email
        chosen = _chosen_address(saved, request.args.get("alamat", type=int))
        if chosen is not None:
            form.phone.data = form.phone.data or chosen.phone
            form.address.data = form.address.data or chosen.address
            if chosen.address:
                form.delivery.data = "delivery"
    status = 200
    if form.validate_on_submit():
        details = BuyerDetails(name=form.name.data, phone=form.phone.data, email=form.email.data,
                               delivery=DeliveryMethod(form.delivery.data), address=form.address.data or "")
        try:
            order = create_order(current_user if _buyer_id() else None, cart, details)
        except DomainError as error:
            rollback_now()  # the checkout page is shown again with the message: nothing is kept
            flash(error.detail, "error")
            status = error.status
        else:
            if buyer is not None:
                remember_address(buyer, details.phone, details.address)
            notify_buyer(order, "confirmation")
            return redirect(url_for("shop.order_status", token=order.token))
    elif request.method == "POST":
        status = 422
    delivery = form.delivery.data == "delivery"
    shipping = sum(grp.sentra.shipping_fee for grp in groups) if delivery else 0
    subtotal = sum(grp.subtotal for grp in groups)
    return render_template("shop/checkout.html", form=form, groups=groups, subtotal=subtotal, saved=saved,
                           shipping_if_delivery=sum(grp.sentra.shipping_fee for grp in groups),
                           shipping=shipping, total=subtotal + shipping), status


def _chosen_address(saved: list, address_id: int | None):
    """The saved address the buyer picked (`?alamat=<id>`, only among their own), else the latest."""
    if address_id is not None:
        return next((a for a in saved if a.id == address_id), None)
    return saved[0] if saved else None


def _pay_form() -> PayForm:
    form = PayForm()
    form.payment_method.choices = list(LOCAL_TEST_METHODS.items())
    if not form.attempt_key.data:
        form.attempt_key.data = str(uuid.uuid4())
    if request.method == "GET":
        form.payment_method.data = "pm_card_visa"
    return form


@bp.get("/pesanan/<token>")
@writes
def order_status(token: str):
    order = _order_or_404(token)
    expire_if_due(order)
    gw = gateway()
    if order.is_payable and not gw.local_mode:
        allow_stripe_js()
    pending_action = next((a for a in reversed(order.attempts) if a.status == "requires_action"), None)
    last_attempt = order.attempts[-1] if order.attempts else None
    processing = (order.status == OrderStatus.PENDING and last_attempt is not None
                  and last_attempt.status == "processing")
    return render_template("shop/order.html", order=order, form=_pay_form(), local_mode=gw.local_mode,
                           publishable_key=gw.publishable_key, pending_action=pending_action, processing=processing,
                           last_attempt=last_attempt, problems=order_available_now(order) if order.is_payable else [])


@bp.get("/pesanan/<token>/status.json")
def order_status_json(token: str):
    """Where the order and its last payment stand, for the "processing" page to poll."""
    order = _order_or_404(token)
    last_attempt = order.attempts[-1] if order.attempts else None
    return jsonify(status=str(order.status), payment=str(last_attempt.status) if last_attempt else None)


def _order_or_404(token: str) -> Order:
    try:
        return get_order_by_token(token)
    except DomainError:
        abort(404)


@bp.post("/pesanan/<token>/bayar")
def order_pay(token: str):
    order = _order_or_404(token)
    form = _pay_form()
    back = redirect(url_for("shop.order_status", token=order.token))
    if not form.validate_on_submit():
        flash(_("Formulir pembayaran tidak sah. Muat ulang halaman lalu coba lagi."), "error")
        return back
    gw = gateway()
    if gw.local_mode:
        method = form.payment_method.data if form.payment_method.data in LOCAL_TEST_METHODS else ""
    else:
        method = form.stripe_payment_method.data if (form.stripe_payment_method.data or "").startswith("pm_") else ""
    try:
        attempt, is_new = start_attempt(order, form.attempt_key.data, method)
    except DomainError as error:
        rollback_now()
        flash(error.detail, "error")
        return back
    commit_now()  # the attempt is on record before Stripe is asked to charge
    if not is_new:
        if attempt.status == "requires_action" and order.is_payable:
            return redirect(url_for("shop.order_3ds", token=order.token))
        flash(_("Pembayaran ini sudah dikirim; berikut statusnya."), "info")
        return back
    stripe_key = attempt.stripe_idempotency_key or attempt.idempotency_key
    return _charge(order, attempt, lambda: gw.pay(order_id=order.id, order_number=order.number,
                                                   amount=attempt.amount, payment_method=method,
                                                   idempotency_key=stripe_key))


def _charge(order: Order, attempt: PaymentAttempt, call) -> BaseResponse:
    """Call Stripe (after our own commit), then record what it answered."""
    back = redirect(url_for("shop.order_status", token=order.token))
    try:
        result = call()
    except PaymentUnavailable as error:
        attempt = db.session.get_one(PaymentAttempt, attempt.id)
        mark_attempt_error(attempt, error.detail)
        flash(error.detail, "error")
        return back
    except DomainError as error:
        # Stripe refused to look at or act on an intent it answered before: the attempt keeps its
        # state (a webhook still settles it); the buyer sees why.
        flash(error.detail, "error")
        return back
    attempt = db.session.get_one(PaymentAttempt, attempt.id)
    try:
        outcome = apply_result(attempt, result)
    except DomainError as error:
        # Paid, but the order cannot be booked (e.g. the goods went after the hold lapsed): the
        # webhook for this payment cancels the order and refunds in full.
        rollback_now()
        flash(_("Pembayaran diterima tetapi pesanan tidak dapat diproses (%(why)s). Dana akan dikembalikan "
                "penuh.", why=error.detail), "error")
        return back
    refund_kind = _refund_kind(order, outcome, result)
    if refund_kind is not None:
        # Charged, but this payment cannot pay this order: all of it goes back now (one refund per
        # intent; the webhook for the same payment finds this refund and sends nothing more).
        plan_auto_refund(order, result, refund_kind)
        flash(_refund_message(refund_kind), "error")
        commit_now()  # the refund is on record before Stripe is asked for it
        send_refunds(result.intent_id)  # one Stripe cannot take now is retried (webhook, send-refunds)
        return back
    if outcome == "fulfilled":
        notify_buyer(order, "paid")
        flash(_("Pembayaran berhasil. Terima kasih!"), "success")
    elif result.succeeded:  # already booked with this very payment (the webhook came first)
        flash(_("Pembayaran berhasil. Terima kasih!"), "success")
    elif result.status == "requires_action":
        return redirect(url_for("shop.order_3ds", token=order.token))
    elif result.status == "processing":
        flash(_("Pembayaran sedang diproses bank. Halaman ini akan menampilkan hasilnya."), "info")
    else:
        flash(result.message or _("Pembayaran ditolak. Coba kartu lain."), "error")
        if result.intent_id and result.declined:
            _cancel_declined(order.id, result.intent_id)
    return back


def _refund_kind(order: Order, outcome: str, result) -> str | None:
    """Why a succeeded charge must go back in full (a `PaymentRefund` kind), or None if it paid the order."""
    if not result.succeeded:
        return None
    if outcome == "already_paid" and order.paid_intent_id and order.paid_intent_id != result.intent_id:
        return REFUND_OUTCOMES["duplicate_payment_refund"]  # a second payment, e.g. from another tab
    return REFUND_OUTCOMES.get(outcome) if outcome in ("order_cancelled", "amount_mismatch") else None


def _refund_message(kind: str) -> str:
    after = _("Seluruh dananya dikembalikan ke kartu Anda; biasanya masuk dalam 5–10 hari kerja, tergantung bank.")
    if kind == "order_cancelled":
        why = _("Pesanan ini sudah dibatalkan, jadi pembayaran Anda tidak dapat dipakai untuk pesanan ini.")
    elif kind == "amount_mismatch":
        why = _("Jumlah yang dibayar tidak sama dengan total pesanan, jadi pembayaran ini tidak dapat dipakai "
                "untuk pesanan ini. Pesanan masih bisa dibayar lagi.")
    else:
        why = _("Pesanan ini sudah dibayar sebelumnya, jadi pembayaran kedua ini tidak dapat dipakai untuk pesanan "
                "ini.")
    return f"{why} {after}"


def _cancel_declined(order_id: int, intent_id: str) -> None:
    """A declined intent is cancelled at Stripe so it can never be confirmed later; a new "Bayar"
    makes a new one. If Stripe cannot cancel it, staff are alerted (the decline itself stands)."""
    commit_now()  # the decline is on record before Stripe is asked to cancel the intent
    with contextlib.suppress(DomainError):  # a failure raised a staff alert
        cancel_intents(db.session.get_one(Order, order_id), gateway(), only=[intent_id])


def _action_attempt(order: Order) -> PaymentAttempt:
    attempt = next((a for a in reversed(order.attempts) if a.status == "requires_action"), None)
    if attempt is None or not order.is_payable:
        abort(404)
    return attempt


@bp.get("/pesanan/<token>/3ds")
def order_3ds(token: str):
    order = _order_or_404(token)
    attempt = _action_attempt(order)
    assert attempt.payment_intent_id is not None  # Stripe asked for an action on this intent
    gw = gateway()
    try:
        intent = gw.retrieve(attempt.payment_intent_id)
    except DomainError as error:  # PaymentUnavailable, or Stripe refused
        flash(error.detail, "error")
        return redirect(url_for("shop.order_status", token=order.token))
    if not gw.local_mode:
        allow_stripe_js()
    return render_template("shop/three_ds.html", order=order, local_mode=gw.local_mode,
                           client_secret=intent.client_secret, publishable_key=gw.publishable_key)


@bp.post("/pesanan/<token>/3ds")
def order_3ds_complete(token: str):
    """Local mode: the simulated bank page approves or refuses 3-D Secure."""
    order = _order_or_404(token)
    attempt = _action_attempt(order)
    assert attempt.payment_intent_id is not None  # Stripe asked for an action on this intent
    gw = gateway()
    if not gw.local_mode:
        abort(404)
    try:
        intent = gw.retrieve(attempt.payment_intent_id)
    except DomainError as error:  # PaymentUnavailable, or Stripe refused
        flash(error.detail, "error")
        return redirect(url_for("shop.order_status", token=order.token))
    success = request.form.get("hasil") == "setuju"
    return _charge(order, attempt, lambda: gw.authenticate_test(attempt.payment_intent_id, intent.client_secret,
                                                                success))


@bp.get("/pesanan/<token>/kembali")
@writes
def order_return(token: str):
    """Where Stripe.js sends the buyer after 3-D Secure: ask Stripe, fulfil if paid (idempotent)."""
    order = _order_or_404(token)
    attempt = next((a for a in reversed(order.attempts) if a.payment_intent_id), None)
    if attempt is None or attempt.payment_intent_id is None or not order.is_payable:
        return redirect(url_for("shop.order_status", token=order.token))
    gw = gateway()
    return _charge(order, attempt, lambda: gw.retrieve(attempt.payment_intent_id))


@bp.get("/pesanan/<token>/faktur.pdf")
def order_invoice(token: str):
    order = _order_or_404(token)
    pdf = render_pdf("invoice.html", order=order, sentras={f.sentra_id: f.sentra for f in order.fulfilments})
    return Response(pdf, mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="faktur-{order.number}.pdf"'})


# -- Stripe webhook --------------------------------------------------------------------------------


@bp.post("/stripe/webhook")
@csrf.exempt
def stripe_webhook():
    """The only CSRF-exempt route: authenticity comes from the Stripe-Signature instead."""
    from shop.webhooks import cancel_after_failed_fulfilment, process_event

    gw = gateway()
    try:
        event = gw.verify_event(request.get_data(), request.headers.get("Stripe-Signature"))
    except DomainError as error:
        return problem(400, error.title, error.detail)
    try:
        outcome = process_event(event)
        db.session.flush()
    except IntegrityError:
        rollback_now()  # the same event processed concurrently by another worker
        outcome = "duplicate"
    except DomainError as error:
        rollback_now()
        current_app.logger.warning("paid order cannot be booked: %s", error.detail)
        cancel_after_failed_fulfilment(event, error.detail)
        outcome = "unfulfillable_refund"
    # The event is on record before Stripe is called: the refunds this event (or an earlier
    # delivery that crashed) recorded are sent after this commit.
    commit_now()
    intent_id = ((event.get("data") or {}).get("object") or {}).get("id")
    unsent = send_refunds(intent_id)
    if unsent:
        # Money that must go back is still here (Stripe refused or was down, or another delivery is
        # sending it right now): "not done" makes Stripe deliver the event again, and that delivery
        # tries again (so does `flask shop send-refunds`). Everything is committed already.
        response = jsonify(received=True, outcome=outcome, refunds_pending=unsent)
        response.status_code = 503
        return response
    if outcome == "fulfilled":
        order = db.session.scalar(sa.select(Order).where(Order.paid_intent_id == intent_id))
        if order is not None:
            notify_buyer(order, "paid")
    return jsonify(received=True, outcome=outcome)


# -- staff -----------------------------------------------------------------------------------------


def _fulfilment_or_404(fulfilment_id: int) -> Fulfilment:
    fulfilment = db.get_or_404(Fulfilment, fulfilment_id)
    require_sentra_access(current_user, fulfilment.sentra_id)
    return fulfilment


@bp.get("/staf/pesanan")
@staff_required
def staff_orders():
    status = request.args.get("status", "open")
    query = request.args.get("q", "").strip()[:80]
    oldest_first = request.args.get("urut") == "lama"
    pagination = db.paginate(fulfilment_queue(scoped_sentra_ids(current_user), status, query,
                                              oldest_first=oldest_first),
                             page=max(_int_arg("halaman") or 1, 1), per_page=50, error_out=False)
    args = {k: v for k, v in request.args.items() if k != "halaman" and v}
    return render_template("shop/staff_orders.html", pagination=pagination, status=status, query=query,
                           oldest_first=oldest_first, args=args)


@bp.get("/staf/pesanan/<int:fulfilment_id>")
@staff_required
def staff_fulfilment(fulfilment_id: int):
    fulfilment = _fulfilment_or_404(fulfilment_id)
    expire_if_due(fulfilment.order)
    refund_form = RefundForm()
    refund_form.client_key.data = str(uuid.uuid4())
    refunds = db.session.scalars(sa.select(OrderRefund).where(OrderRefund.fulfilment_id == fulfilment.id)
                                 .order_by(OrderRefund.id)).all()
    auto_refunds = db.session.scalars(sa.select(PaymentRefund).where(PaymentRefund.order_id == fulfilment.order_id)
                                      .order_by(PaymentRefund.id)).all()
    return render_template("shop/staff_fulfilment.html", f=fulfilment, order=fulfilment.order,
                           tracking_form=TrackingForm(), reason_form=ReasonForm(), refund_form=refund_form,
                           refunds=refunds, auto_refunds=auto_refunds, whatsapp_url=whatsapp_link(fulfilment))


def _staff_action(fulfilment_id: int, action, message: str):
    fulfilment = _fulfilment_or_404(fulfilment_id)
    with refusals_flashed():
        action(fulfilment)
        flash(message, "success")
    return redirect(url_for("shop.staff_fulfilment", fulfilment_id=fulfilment_id))


@bp.post("/staf/pesanan/<int:fulfilment_id>/siap")
@staff_required
def staff_ready(fulfilment_id: int):
    return _staff_action(fulfilment_id, lambda f: mark_ready(current_user, f), _("Ditandai siap diambil."))


@bp.post("/staf/pesanan/<int:fulfilment_id>/kirim")
@staff_required
def staff_ship(fulfilment_id: int):
    form = TrackingForm()
    if not form.validate_on_submit():
        flash(_("Nomor resi wajib diisi."), "error")
        return redirect(url_for("shop.staff_fulfilment", fulfilment_id=fulfilment_id))
    return _staff_action(fulfilment_id, lambda f: mark_shipped(current_user, f, form.tracking_number.data),
                         _("Ditandai dikirim."))


@bp.post("/staf/pesanan/<int:fulfilment_id>/selesai")
@staff_required
def staff_complete(fulfilment_id: int):
    return _staff_action(fulfilment_id, lambda f: mark_completed(current_user, f),
                         _("Pesanan selesai (sudah diambil/diterima)."))


@bp.post("/staf/pesanan/<int:fulfilment_id>/batal")
@staff_required
def staff_cancel(fulfilment_id: int):
    form = ReasonForm()
    if not form.validate_on_submit():
        flash(_("Alasan pembatalan wajib diisi."), "error")
        return redirect(url_for("shop.staff_fulfilment", fulfilment_id=fulfilment_id))
    fulfilment = _fulfilment_or_404(fulfilment_id)
    back = redirect(url_for("shop.staff_fulfilment", fulfilment_id=fulfilment_id))
    order = fulfilment.order
    try:
        check_cancellable(order, form.reason.data)
        # Stripe first: once no intent can still be paid, the order may be cancelled.
        paid = cancel_intents(order, gateway())
    except DomainError as error:
        commit_before_refusal()  # keeps the staff alert of a failed Stripe cancel; nothing else changed
        flash(error.detail, "error")
        return back
    if paid is not None:
        return _book_instead_of_cancel(order, paid, back)
    return _staff_action(fulfilment_id, lambda f: cancel_order(current_user, f.order, form.reason.data),
                         _("Pesanan dibatalkan; stok dikembalikan."))


def _book_instead_of_cancel(order: Order, paid, back):
    """Stripe would not cancel: the buyer had already paid. The order is booked, not cancelled."""
    try:
        outcome = fulfil_order(lock_order(order.id), paid)
    except DomainError as error:
        rollback_now()
        flash(_("Pembeli sudah membayar pesanan ini, tetapi pesanan tidak dapat diproses (%(why)s). Dana "
                "akan dikembalikan penuh secara otomatis.", why=error.detail), "error")
        return back
    if outcome == "fulfilled":
        notify_buyer(order, "paid")
    flash(_("Pesanan tidak dibatalkan: pembeli sudah membayar di Stripe, jadi pesanan dicatat sebagai dibayar. "
            "Siapkan pesanan seperti biasa, atau kembalikan dananya."), "error")
    return back


@bp.post("/staf/pesanan/<int:fulfilment_id>/kembalikan-dana")
@staff_required
def staff_refund(fulfilment_id: int):
    fulfilment = _fulfilment_or_404(fulfilment_id)
    back = redirect(url_for("shop.staff_fulfilment", fulfilment_id=fulfilment_id))
    form = RefundForm()
    if not form.validate_on_submit():
        flash(_("Alasan pengembalian wajib diisi."), "error")
        return back
    whole = request.form.get("whole") == "1"
    lines = {}
    for line in fulfilment.lines:
        raw = request.form.get(f"qty_{line.id}", "0").strip()
        lines[line.id] = line.quantity - line.refunded_qty if whole else (int(raw) if raw.isdigit() else 0)
    try:
        require_manager_for_refund(current_user, fulfilment)
        refund = plan_refund(current_user, fulfilment, lines=lines,
                             include_shipping=whole or request.form.get("include_shipping") == "1",
                             reason=form.reason.data, client_key=form.client_key.data,
                             restock=request.form.get("restock", "1") == "1")
    except DomainError as error:
        rollback_now()
        flash(error.detail, "error")
        return back
    commit_now()  # the planned refund is on record before Stripe is asked to pay it back
    return _finish_refund(refund.id, back)


@bp.post("/staf/pengembalian/<int:refund_id>/ulangi")
@staff_required
def staff_refund_retry(refund_id: int):
    refund = db.get_or_404(OrderRefund, refund_id)
    require_sentra_access(current_user, refund.fulfilment.sentra_id)
    return _finish_refund(refund.id, redirect(url_for("shop.staff_fulfilment", fulfilment_id=refund.fulfilment_id)))


def _finish_refund(refund_id: int, back):
    refund = db.session.get_one(OrderRefund, refund_id)
    if refund.status == "succeeded":
        flash(_("Pengembalian dana ini sudah selesai."), "info")
        return back
    try:
        require_manager_for_refund(current_user, refund.fulfilment)
        stripe_id = refund.stripe_refund_id or gateway().refund(
            # an order is PAID only together with its intent id (checkout.fulfil)
            intent_id=cast(str, refund.fulfilment.order.paid_intent_id), amount=refund.amount,
            idempotency_key=f"shop-refund-{refund.client_key}",
            metadata={"order_id": str(refund.fulfilment.order_id), "refund_id": str(refund.id)})
        if not refund.stripe_refund_id:
            # Remember Stripe's answer at once: a retry must never refund twice.
            refund.stripe_refund_id = stripe_id
            commit_now()
        complete_refund(current_user, refund, stripe_id)
    except DomainError as error:
        rollback_now()
        flash(error.detail, "error")
        return back
    flash(_("Dana dikembalikan: %(amount)s.", amount=current_app.jinja_env.filters["rupiah"](refund.amount)),
          "success")
    return back


@bp.get("/staf/pesanan/<int:fulfilment_id>/daftar-ambil.pdf")
@staff_required
def staff_pick_list(fulfilment_id: int):
    fulfilment = _fulfilment_or_404(fulfilment_id)
    pdf = render_pdf("pick_list.html", fulfilments=[fulfilment], sentra=fulfilment.sentra, today=date.today())
    return Response(pdf, mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="ambil-{fulfilment.order.number}.pdf"'})


@bp.get("/staf/daftar-ambil/<int:sentra_id>.pdf")
@staff_required
def staff_pick_list_all(sentra_id: int):
    require_sentra_access(current_user, sentra_id)
    sentra = db.get_or_404(Sentra, sentra_id)
    fulfilments = db.session.scalars(fulfilment_queue({sentra_id}, "paid")).all()
    pdf = render_pdf("pick_list.html", fulfilments=fulfilments, sentra=sentra, today=date.today())
    return Response(pdf, mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="daftar-ambil-{sentra.code}.pdf"'})


__all__ = ["OrderStatus", "carts"]


# -- buyer accounts (optional: guests can always check out) ----------------------------------------


def _start_buyer_session(user) -> None:
    from flask import session
    from flask_login import login_user

    lang = session.get("lang")
    session.clear()  # a fresh session at login (no fixation); the cart lives in its own cookie
    if lang:
        session["lang"] = lang
    session.permanent = True
    login_user(user)


@bp.route("/akun/daftar", methods=["GET", "POST"])
def buyer_register():
    from core.errors import ValidationFailed
    from core.urls import safe_next
    from shop.forms import BuyerRegisterForm
    from shop.services import register_buyer

    form = BuyerRegisterForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = register_buyer(form.name.data, form.email.data, form.password.data)
        except ValidationFailed as error:
            for name, message in error.errors.items():
                if name in form:
                    form[name].errors = [*form[name].errors, message]
            status = 422
        else:
            _start_buyer_session(user)
            flash(_("Akun dibuat. Selamat berbelanja!"), "success")
            return redirect(safe_next(request.args.get("next")) or url_for("shop.cart_view"))
    elif request.method == "POST":
        status = 422
    return render_template("shop/buyer_register.html", form=form), status


@bp.route("/akun/masuk", methods=["GET", "POST"])
def buyer_login():
    from core.urls import safe_next
    from shop.forms import BuyerLoginForm
    from shop.services import authenticate_buyer

    form = BuyerLoginForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = authenticate_buyer(form.email.data, form.password.data, request.remote_addr or "-",
                                      request.cookies.get(DEVICE_COOKIE))
        except DomainError as error:
            commit_before_refusal()  # failed attempts count even though the login failed
            form.password.errors = [*form.password.errors, error.detail]
            status = error.status
        else:
            _start_buyer_session(user)
            response = redirect(safe_next(request.args.get("next")) or url_for("shop.buyer_orders_view"))
            set_device_cookie(response, remember_device(request.cookies.get(DEVICE_COOKIE), user))
            return response
    elif request.method == "POST":
        status = 422
    return render_template("shop/buyer_login.html", form=form), status


@bp.route("/akun/lupa-sandi", methods=["GET", "POST"])
def buyer_password_forgot():
    """Ask for a reset link. The answer is the same whether or not the e-mail has an account."""
    from accounts.password_reset import buyer_for_email, reset_token
    from core.mail import send_mail
    from shop.forms import PasswordForgotForm

    form = PasswordForgotForm()
    if form.validate_on_submit():
        user = buyer_for_email(form.email.data)
        if user is not None and user.email:
            link = current_app.config["PUBLIC_BASE_URL"].rstrip("/") + url_for(
                "shop.buyer_password_reset", token=reset_token(user))
            body = render_template("shop/email/password_reset.txt", user=user, link=link)
            # at most one message per account per 10 minutes, however often the form is sent
            slot = int(utcnow().timestamp() // 600)
            send_mail(user.email, _("Atur ulang kata sandi Sentra Kreasi"), body,
                      key=f"password-reset:{user.id}:{slot}")
        flash(_("Jika e-mail itu terdaftar, tautan untuk mengatur ulang kata sandi sudah kami kirim. "
                "Tautan berlaku satu jam."), "success")
        return redirect(url_for("shop.buyer_login"))
    return render_template("shop/buyer_password_forgot.html", form=form), 422 if request.method == "POST" else 200


@bp.route("/akun/sandi-baru/<token>", methods=["GET", "POST"])
def buyer_password_reset(token: str):
    from accounts.password_reset import set_password_from_reset, user_for_reset_token
    from core.errors import ValidationFailed
    from shop.forms import PasswordResetForm

    user = user_for_reset_token(token)
    if user is None:
        flash(_("Tautan ini sudah tidak berlaku (lewat satu jam atau sudah dipakai). Minta tautan baru."), "error")
        return redirect(url_for("shop.buyer_password_forgot"))
    form = PasswordResetForm()
    status = 200
    if form.validate_on_submit():
        try:
            set_password_from_reset(user, form.password.data)
        except ValidationFailed as error:
            form.password.errors = [*form.password.errors, error.errors["password"]]
            status = 422
        else:
            flash(_("Kata sandi baru tersimpan. Silakan masuk."), "success")
            return redirect(url_for("shop.buyer_login"))
    elif request.method == "POST":
        status = 422
    return render_template("shop/buyer_password_reset.html", form=form), status


@bp.get("/akun/pesanan")
def buyer_orders_view():
    from shop.services import buyer_orders

    if _buyer_id() is None:
        return redirect(url_for("shop.buyer_login", next=request.path))
    return render_template("shop/buyer_orders.html", orders=buyer_orders(current_user))
