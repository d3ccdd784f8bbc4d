"""The one place views answer htmx and plain requests differently: fragment or page, redirect or HX-Redirect."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import redirect, render_template, request, url_for


def is_htmx() -> bool:
    """An htmx request that swaps a fragment (a boosted link wants the whole page)."""
    return request.headers.get("HX-Request") == "true" and request.headers.get("HX-Boosted") != "true"


def fragment_or_page(fragment: str, whole_page: str, status: int = 200, **context):
    """Render `fragment` for htmx (always 200, so htmx swaps it), else `whole_page` with `status`."""
    if is_htmx():
        return render_template(fragment, **context)
    return render_template(whole_page, **context), status


def redirect_or_hx(target: str, code: int = 303):
    """Send the browser to `target`: an HX-Redirect header for htmx, a redirect otherwise."""
    if is_htmx():
        return "", 204, {"HX-Redirect": target}
    return redirect(target, code)


def _same_site_path(url: str | None) -> str | None:
    parts = urlsplit(url or "")
    if not parts.path or (parts.netloc and parts.netloc != request.host):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def sign_in_first():
    """Flask-Login's unauthorized handler: to the sign-in page, then back to the page the person was on.

    A page (GET) comes back to itself; an action (POST) to the page it was sent from (htmx's
    HX-Current-URL, else the Referer), or to its auction's page.
    """
    if request.method == "GET":
        back = request.full_path.rstrip("?")
    else:
        back = _same_site_path(request.headers.get("HX-Current-URL")) or _same_site_path(request.referrer)
        if back is None:
            auction_id = (request.view_args or {}).get("auction_id")
            back = url_for("auctions.show", auction_id=auction_id) if auction_id else url_for("main.index")
    target = url_for("auth.login", next=back)
    if is_htmx():
        return "", 204, {"HX-Redirect": target}
    return redirect(target)
