"""Users, roles, login (staff: e-mail + password; makers: phone + PIN)."""

from flask import Blueprint, Flask

bp = Blueprint("accounts", __name__, url_prefix="/accounts")


def init_app(app: Flask) -> None:
    """Staff-menu entries and the nightly throttle clean-up."""
    from accounts import jobs
    from core.menu import add_menu_item

    jobs.register_schedules()
    add_menu_item("accounts.own_approval_pin", "PIN persetujuan saya",
                  "PIN untuk menyetujui diskon besar dan retur di kasir (bukan kata sandi)", roles={"admin", "manager"},
                  order=92)
    add_menu_item("accounts.user_list", "Pengguna & peran",
                  "Buat akun staf dan pembuat, atur peran, Sentra, dan PIN.", roles={"admin"}, order=90)
