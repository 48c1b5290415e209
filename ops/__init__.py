"""Operations tools: consistency checks over the stock and money ledgers (`flask ledger verify`)."""
