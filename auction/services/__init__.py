"""The shared service layer: every business rule and every write transaction.

Views, bot handlers and jobs call these functions with plain values and get plain
values back; a broken rule raises a `ServiceError` whose message is translatable.
"""
