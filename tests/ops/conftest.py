import pytest


@pytest.fixture
def behind_nginx(app):
    """The app as deployed: one proxy (nginx) in front, whose X-Forwarded-* headers count."""
    app.config["TRUSTED_PROXIES"] = 1
    yield app
    app.config["TRUSTED_PROXIES"] = 0


def through_nginx(phone: str, forged: str | None = None) -> dict:
    """The headers nginx sends for a phone at ``phone``: it appends the address it saw to whatever
    X-Forwarded-For the phone wrote itself (``forged``)."""
    forwarded = f"{forged}, {phone}" if forged else phone
    return {
        "X-Forwarded-For": forwarded,
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "outreach.example.vn",
        "X-Forwarded-Port": "443",
        # Over HTTPS, Flask-WTF also wants the form to come from this site's own page.
        "Referer": "https://outreach.example.vn/login",
    }
