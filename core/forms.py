"""Required form fields, typed for the checker as what they hold once the form has validated.

WTForms types `field.data` as `... | None` (nothing posted yet) and `field.errors` as a sequence.
Inside `if form.validate_on_submit():` a field with `DataRequired` holds a value, and views add
service errors to it with `errors.append`. At run time these names are the WTForms classes
themselves; use them only for fields that have a `DataRequired` validator.
"""

from datetime import date
from typing import TYPE_CHECKING

from wtforms import DateField, EmailField, IntegerField, PasswordField, StringField, TelField

if TYPE_CHECKING:
    class RequiredStringField(StringField):
        @property
        def data(self) -> str: ...
        @data.setter
        def data(self, value: str | None) -> None: ...
        errors: list[str]

    class RequiredPasswordField(PasswordField):
        @property
        def data(self) -> str: ...
        @data.setter
        def data(self, value: str | None) -> None: ...
        errors: list[str]

    class RequiredEmailField(EmailField):
        @property
        def data(self) -> str: ...
        @data.setter
        def data(self, value: str | None) -> None: ...
        errors: list[str]

    class RequiredTelField(TelField):
        @property
        def data(self) -> str: ...
        @data.setter
        def data(self, value: str | None) -> None: ...
        errors: list[str]

    class RequiredDateField(DateField):
        @property  # type: ignore[override]  # as WTForms' own stub for DateField
        def data(self) -> date: ...
        @data.setter
        def data(self, value: date | None) -> None: ...
        errors: list[str]

    class RequiredIntegerField(IntegerField):
        @property
        def data(self) -> int: ...
        @data.setter
        def data(self, value: int | None) -> None: ...
        errors: list[str]
else:
    RequiredStringField = StringField
    RequiredPasswordField = PasswordField
    RequiredEmailField = EmailField
    RequiredTelField = TelField
    RequiredDateField = DateField
    RequiredIntegerField = IntegerField
