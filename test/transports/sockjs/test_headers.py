"""Tests for snorky.transports.sockjs.headers."""

from twisted.internet.task import Clock
from twisted.trial.unittest import TestCase
from twisted.web.server import Request
from twisted.web.test.requesthelper import DummyChannel

from snorky.transports.sockjs.headers import (
    ONE_YEAR,
    error,
    method_not_allowed,
    not_found,
    origin_not_allowed,
    preflight,
    set_cacheable,
    set_cors,
    set_not_cached,
    set_session_cookie,
)


def _request(*headers: tuple) -> Request:
    """
    A twisted.web request carrying *headers* (name, value) pairs.
    """
    request = Request(DummyChannel())
    for name, value in headers:
        request.requestHeaders.addRawHeader(name, value)
    request.parseCookies()
    return request


def _header(request: Request, name: bytes):
    values = request.responseHeaders.getRawHeaders(name)
    return values[0] if values else None


class CorsTests(TestCase):
    """
    Tests for `set_cors` and `preflight`.
    """

    def test_origin_echoed_with_credentials(self):
        """
        A request's ``Origin`` is echoed, with credentials and ``Vary``.
        """
        request = _request((b"Origin", b"https://a.example"))
        set_cors(request)
        self.assertEqual(_header(request, b"Access-Control-Allow-Origin"), b"https://a.example")
        self.assertEqual(_header(request, b"Access-Control-Allow-Credentials"), b"true")
        self.assertEqual(_header(request, b"Vary"), b"Origin")

    def test_no_origin(self):
        """
        Without ``Origin`` any origin is allowed, without credentials.
        """
        request = _request()
        set_cors(request)
        self.assertEqual(_header(request, b"Access-Control-Allow-Origin"), b"*")
        self.assertIsNone(_header(request, b"Access-Control-Allow-Credentials"))

    def test_preflight(self):
        """
        A preflight is an empty, year-long cacheable ``204`` naming the
        methods and echoing the requested headers.
        """
        clock = Clock()
        request = _request((b"Access-Control-Request-Headers", b"x-a"))
        self.assertEqual(preflight(request, b"OPTIONS, POST", clock), b"")
        self.assertEqual(request.code, 204)
        self.assertIsNone(request.defaultContentType)
        self.assertEqual(_header(request, b"Access-Control-Allow-Methods"), b"OPTIONS, POST")
        self.assertEqual(_header(request, b"Access-Control-Allow-Headers"), b"x-a")
        self.assertEqual(_header(request, b"Access-Control-Max-Age"), b"%d" % ONE_YEAR)


class CachingTests(TestCase):
    """
    Tests for `set_not_cached` and `set_cacheable`.
    """

    def test_not_cached(self):
        """
        Session answers forbid every kind of caching.
        """
        request = _request()
        set_not_cached(request)
        self.assertIn(b"no-store", _header(request, b"Cache-Control"))
        self.assertIn(b"max-age=0", _header(request, b"Cache-Control"))

    def test_cacheable(self):
        """
        Cacheable answers expire a year after the clock's now.
        """
        clock = Clock()
        request = _request()
        set_cacheable(request, clock)
        self.assertEqual(_header(request, b"Cache-Control"), b"public, max-age=%d" % ONE_YEAR)
        self.assertEqual(_header(request, b"Expires"), b"Fri, 01 Jan 1971 00:00:00 GMT")


class CookieTests(TestCase):
    """
    Tests for `set_session_cookie`.
    """

    def test_sane_value_echoed(self):
        """
        A sane ``JSESSIONID`` is echoed, an odd or missing one replaced.
        """
        for sent, kept in [(b"abc-1.2_~", b"abc-1.2_~"), (b"a,b", b"dummy"),
                           (b"x" * 129, b"dummy"), (None, b"dummy")]:
            request = _request(*([(b"Cookie", b"JSESSIONID=" + sent)] if sent else []))
            set_session_cookie(request)
            self.assertEqual(request.cookies, [b"JSESSIONID=" + kept + b"; Path=/"], sent)


class ErrorTests(TestCase):
    """
    Tests for the plain-text error answers.
    """

    def test_error(self):
        """
        An error is its code and its text, as UTF-8 plain text.
        """
        request = _request()
        self.assertEqual(error(request, 500, "Br\u00f6ken"), "Br\u00f6ken".encode())
        self.assertEqual(request.code, 500)
        self.assertEqual(_header(request, b"Content-Type"), b"text/plain; charset=UTF-8")

    def test_not_found_and_origin(self):
        """
        ``404`` and ``403`` carry the protocol's texts, and ``403`` no
        CORS header.
        """
        request = _request()
        self.assertIn(b"Page not found", not_found(request))
        self.assertEqual(request.code, 404)
        request = _request((b"Origin", b"https://evil.example"))
        self.assertIn(b"Origin not allowed", origin_not_allowed(request))
        self.assertEqual(request.code, 403)
        self.assertIsNone(_header(request, b"Access-Control-Allow-Origin"))

    def test_method_not_allowed(self):
        """
        ``405`` names the allowed methods and has no body or content type.
        """
        request = _request()
        self.assertEqual(method_not_allowed(request, b"GET"), b"")
        self.assertEqual(request.code, 405)
        self.assertEqual(_header(request, b"Allow"), b"GET")
        self.assertIsNone(request.defaultContentType)
