"""Sales shared by the counter and the shop: Sale, SaleLine, Payment, Refund."""
