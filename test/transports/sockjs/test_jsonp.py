"""Tests for snorky.transports.sockjs.jsonp."""

from twisted.trial.unittest import TestCase

from test.transports.sockjs.httpstub import HandlerLog, SiteStub

_FORM = [(b"Content-Type", b"application/x-www-form-urlencoded")]


class JsonpTests(TestCase):
    """
    Tests for ``jsonp`` and ``jsonp_send``.
    """

    def setUp(self):
        self.handlers = HandlerLog()
        self.stub = SiteStub(self.handlers)
        self.first = self.stub.request(b"GET", b"/0/sid/jsonp?c=cb")

    def poll(self):
        return self.stub.request(b"GET", b"/0/sid/jsonp?c=cb")

    def send(self, body, headers=_FORM):
        return self.stub.request(b"POST", b"/0/sid/jsonp_send", body, headers=headers)

    def test_open(self):
        """
        The first poll answers a script calling the callback with ``o``.
        """
        self.assertEqual(self.first.body, b'/**/cb("o");\r\n')
        self.assertEqual(
            self.first.header("content-type"), "application/javascript; charset=UTF-8"
        )
        self.assertEqual(self.first.header("x-content-type-options"), "nosniff")

    def test_form_send(self):
        """
        Messages posted in the ``d`` field, UTF-8 percent-encoded, arrive;
        the answer is ``ok``.
        """
        response = self.send(b"d=%5B%22%C3%BC%3C%2Fscript%3E%22%5D")
        self.assertEqual((response.status, response.body), (200, b"ok"))
        self.assertEqual(
            self.handlers.handlers[0].events[1:], [("received", "\u00fc</script>")]
        )
        self.assertEqual(
            self.poll().text, '/**/cb("a[\\"\u00fc\\u003c/script>\\"]");\r\n'
        )

    def test_raw_send(self):
        """
        A body that is not a form is taken as the JSON itself.
        """
        response = self.send(b'["%61bc"]', headers=[(b"Content-Type", b"text/plain")])
        self.assertEqual(response.body, b"ok")
        self.assertEqual(self.handlers.handlers[0].events[1:], [("received", "%61bc")])

    def test_errors(self):
        """
        Missing or broken payloads get the protocol's error texts.
        """
        for body, text in [
            (b"", b"Payload expected."),
            (b"d=", b"Payload expected."),
            (b"p=p", b"Payload expected."),
            (b"d=%5B%22x", b"Broken JSON encoding."),
            (b"d=%FF", b"Broken JSON encoding."),
        ]:
            response = self.send(body)
            self.assertEqual(response.status, 500, body)
            self.assertIn(text, response.body)

    def test_callback_required(self):
        """
        A poll without a usable callback is refused with ``500``.
        """
        self.assertEqual(self.stub.request(b"GET", b"/0/x/jsonp").status, 500)
        self.assertEqual(self.stub.request(b"GET", b"/0/x/jsonp?c=a(").status, 500)
        self.assertNotIn("x", self.stub.resource.sessions)
