"""Tests for snorky.transports.sockjs.framing."""

import json

from twisted.trial.unittest import TestCase

from urllib.parse import unquote

from snorky.transports.sockjs.framing import (
    FramingError,
    callback_frame,
    close_frame,
    decode_messages,
    event_frame,
    line_frame,
    messages_frame,
    quote,
    quote_for_script,
    script_frame,
)

# Characters the protocol suite expects servers to escape.
_MUST_ESCAPE = (
    [chr(c) for c in range(0x20)]
    + [chr(c) for c in range(0x200C, 0x2010)]
    + [chr(c) for c in range(0x2028, 0x2030)]
    + [chr(c) for c in range(0x2060, 0x2070)]
    + [chr(c) for c in range(0xFFF0, 0x10000)]
)


class QuoteTests(TestCase):
    """
    Tests for `quote` and `quote_for_script`.
    """

    def test_round_trip(self):
        """
        A quoted string decodes as JSON to the original text.
        """
        text = 'h\u00e9llo "w\\orld" \u2603 \U0001d11e'
        self.assertEqual(json.loads(quote(text)), text)

    def test_escapes_what_the_protocol_requires(self):
        """
        Every character the protocol names is sent as a lower-case
        ``\\uXXXX`` escape, or a JSON short escape for controls.
        """
        for char in _MUST_ESCAPE:
            quoted = quote(char)
            self.assertTrue(quoted.isascii(), repr(char))
            self.assertEqual(json.loads(quoted), char)
        self.assertEqual(quote("\u2028\uffff"), '"\\u2028\\uffff"')

    def test_keeps_other_characters_verbatim(self):
        """
        Ordinary non-ASCII text is not escaped, to keep frames small.
        """
        self.assertEqual(quote("\u00fc\u4e2d"), '"\u00fc\u4e2d"')

    def test_lone_surrogates_are_escaped(self):
        """
        A lone surrogate (possible in JavaScript strings) becomes an
        escape, so the frame can still be written as UTF-8.
        """
        self.assertEqual(quote("a\ud800"), '"a\\ud800"')

    def test_script_quote_escapes_less_than(self):
        """
        Inside a ``<script>`` element no ``<`` appears, so ``</script>``
        in a message cannot end the element.
        """
        quoted = quote_for_script('a["</script>"]')
        self.assertNotIn("<", quoted)
        self.assertEqual(json.loads(quoted), 'a["</script>"]')


class FrameTests(TestCase):
    """
    Tests for `messages_frame` and `close_frame`.
    """

    def test_messages_frame(self):
        """
        Quoted messages are joined into an ``a`` frame.
        """
        self.assertEqual(messages_frame([quote("a"), quote("b")]), 'a["a","b"]')

    def test_close_frame(self):
        """
        A close frame holds the code and the reason as JSON.
        """
        self.assertEqual(close_frame(3000, "Go away!"), 'c[3000,"Go away!"]')


class DecodeMessagesTests(TestCase):
    """
    Tests for `decode_messages`.
    """

    def test_array_of_strings(self):
        """
        A JSON array of strings gives its strings, in order.
        """
        self.assertEqual(decode_messages('["a","\\u2028"]'), ["a", "\u2028"])

    def test_empty_array(self):
        """
        An empty array is a valid batch with no messages.
        """
        self.assertEqual(decode_messages("[]"), [])

    def test_empty_payload(self):
        """
        Nothing at all is ``Payload expected.``
        """
        with self.assertRaises(FramingError) as caught:
            decode_messages("")
        self.assertEqual(str(caught.exception), "Payload expected.")

    def test_broken_json(self):
        """
        Text that is not JSON is ``Broken JSON encoding.``
        """
        with self.assertRaises(FramingError) as caught:
            decode_messages('["a')
        self.assertEqual(str(caught.exception), "Broken JSON encoding.")

    def test_not_an_array(self):
        """
        JSON that is not an array is ``Payload expected.``
        """
        for data in ['{"a": 1}', "1", '"a"']:
            with self.assertRaises(FramingError) as caught:
                decode_messages(data)
            self.assertEqual(str(caught.exception), "Payload expected.")

    def test_single_string_when_allowed(self):
        """
        With ``allow_single`` (WebSocket), one JSON string is one message.
        """
        self.assertEqual(decode_messages('"a"', allow_single=True), ["a"])

    def test_non_string_items(self):
        """
        An array holding anything but strings is rejected.
        """
        with self.assertRaises(FramingError):
            decode_messages('["a", 1]')

    def test_deep_nesting(self):
        """
        Pathologically nested JSON is rejected, not a crash.
        """
        with self.assertRaises(FramingError):
            decode_messages("[" * 100000 + "]" * 100000)


class TransportFrameTests(TestCase):
    """
    Tests for the frame formats of the HTTP transports.
    """

    def test_line_and_script(self):
        """
        XHR frames are lines; htmlfile and jsonp frames are script calls
        with ``<`` escaped.
        """
        frame = messages_frame([quote("</script>")])
        self.assertEqual(line_frame(frame), b'a["</script>"]\n')
        self.assertEqual(
            script_frame(frame), b'<script>\np("a[\\"\\u003c/script>\\"]");\n</script>\r\n'
        )
        self.assertEqual(callback_frame("cb")("o"), b'/**/cb("o");\r\n')

    def test_event_percent_escaped(self):
        """
        eventsource frames have ``%``, CR, LF and NUL %-escaped, so that
        what decodeURI makes of them is the frame itself.
        """
        payloads = ["%", "%00", "%%", "100%", "%E2%80%A8", "%41", "%25", "\r\n\x00"]
        frame = messages_frame([quote(p) for p in payloads]) + "\r\n\x00"
        event = event_frame(frame)
        self.assertTrue(event.startswith(b"data: ") and event.endswith(b"\r\n\r\n"))
        data = event[len(b"data: "):-4].decode("utf-8")
        self.assertNotRegex(data, "[\r\n\x00]")
        # decodeURI leaves reserved characters encoded; none are in play,
        # so it agrees with unquote here.
        self.assertEqual(unquote(data), frame)
        self.assertEqual(json.loads(unquote(data)[1:-3]), payloads)

    def test_event_plain(self):
        """
        A frame without those characters is sent as it is.
        """
        self.assertEqual(event_frame('a["x \u2028"]'), 'data: a["x \u2028"]\r\n\r\n'.encode())
