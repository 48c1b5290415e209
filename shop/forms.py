"""Shop forms: they check shape only; prices and totals never come from the browser."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    HiddenField,
    IntegerField,
    PasswordField,
    RadioField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Email, EqualTo, Length, NumberRange, Optional, ValidationError

from core.forms import (
    RequiredEmailField,
    RequiredIntegerField,
    RequiredPasswordField,
    RequiredStringField,
    RequiredTelField,
)


class AddToCartForm(FlaskForm):
    quantity = RequiredIntegerField(_l("Jumlah"), default=1, validators=[DataRequired(), NumberRange(min=1, max=99)])
    service_date = DateField(_l("Tanggal kunjungan"), validators=[Optional()])


class CartUpdateForm(FlaskForm):
    quantity = IntegerField(_l("Jumlah"), validators=[NumberRange(min=0, max=99)])


class CheckoutForm(FlaskForm):
    name = RequiredStringField(_l("Nama lengkap"), validators=[DataRequired(_l("Nama wajib diisi.")), Length(max=120)])
    phone = RequiredTelField(_l("Nomor HP (WhatsApp)"),
                             validators=[DataRequired(_l("Nomor HP wajib diisi.")), Length(min=8, max=20)])
    email = RequiredEmailField(_l("E-mail"), validators=[DataRequired(_l("E-mail wajib diisi.")),
                                                         Email(_l("Alamat e-mail tidak valid.")), Length(max=254)])
    delivery = RadioField(_l("Cara menerima"), choices=[("pickup", _l("Ambil sendiri di Sentra (gratis)")),
                                                        ("delivery", _l("Dikirim ke alamat saya"))],
                          default="pickup", validators=[DataRequired()])
    address = TextAreaField(_l("Alamat pengiriman"), validators=[Length(max=500)])

    def validate_address(self, field):
        if self.delivery.data == "delivery" and len((field.data or "").strip()) < 10:
            raise ValidationError(_l("Tulis alamat pengiriman lengkap (jalan, kota, kode pos)."))


class PayForm(FlaskForm):
    #: one UUID per rendering of the pay page: a double press of "Bayar" reuses it
    attempt_key = HiddenField()
    payment_method = RadioField(_l("Metode pembayaran uji"), validate_choice=False)
    #: with real Stripe keys, the PaymentMethod id Stripe.js created from the card form
    stripe_payment_method = HiddenField()


class TrackingForm(FlaskForm):
    tracking_number = RequiredStringField(_l("Nomor resi"), validators=[DataRequired(_l("Nomor resi wajib diisi.")),
                                                                         Length(max=80)])


class ReasonForm(FlaskForm):
    reason = RequiredStringField(_l("Alasan"), validators=[DataRequired(_l("Alasan wajib diisi.")), Length(max=200)])


class RefundForm(FlaskForm):
    client_key = HiddenField()
    reason = RequiredStringField(_l("Alasan pengembalian"),
                                 validators=[DataRequired(_l("Alasan wajib diisi.")), Length(max=200)])


class BuyerRegisterForm(FlaskForm):
    name = RequiredStringField(_l("Nama lengkap"), validators=[DataRequired(_l("Nama wajib diisi.")), Length(max=120)])
    email = RequiredEmailField(_l("E-mail"), validators=[DataRequired(_l("E-mail wajib diisi.")),
                                                         Email(_l("Alamat e-mail tidak valid.")), Length(max=254)])
    password = RequiredPasswordField(_l("Kata sandi"), validators=[DataRequired(_l("Kata sandi wajib diisi."))])
    confirm = PasswordField(_l("Ulangi kata sandi"),
                            validators=[EqualTo("password", _l("Kata sandi tidak sama."))])


class BuyerLoginForm(FlaskForm):
    email = RequiredEmailField(_l("E-mail"), validators=[DataRequired(_l("E-mail wajib diisi."))])
    password = RequiredPasswordField(_l("Kata sandi"), validators=[DataRequired(_l("Kata sandi wajib diisi."))])


class PasswordForgotForm(FlaskForm):
    email = RequiredEmailField(_l("E-mail akun Anda"), validators=[DataRequired(_l("E-mail wajib diisi.")),
                                                                   Email(_l("Alamat e-mail tidak valid."))])


class PasswordResetForm(FlaskForm):
    password = RequiredPasswordField(_l("Kata sandi baru"), validators=[DataRequired(_l("Kata sandi wajib diisi."))])
    confirm = PasswordField(_l("Ulangi kata sandi baru"),
                            validators=[EqualTo("password", _l("Kata sandi tidak sama."))])
