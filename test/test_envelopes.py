"""Tests for snorky.envelopes: encode and decode_envelope."""

import json
from typing import Any, List

from twisted.trial.unittest import TestCase

from snorky.envelopes import MAX_DEPTH, EnvelopeError, decode_envelope, encode
from test.helpers import nested


class EncodeTests(TestCase):
    """
    Tests for :func:`encode`.
    """

    def test_compact_utf8(self) -> None:
        """
        encode writes compact JSON with non-ASCII text as UTF-8, not escapes.
        """
        self.assertEqual(
            encode({"a": [1, 2.5, None, True], "b": "ñ😀"}),
            '{"a":[1,2.5,null,true],"b":"ñ😀"}'.encode("utf-8"),
        )

    def test_not_json(self) -> None:
        """
        Objects JSON has no notation for raise TypeError.
        """
        for value in (object(), {1, 2}, b"bytes", {(1, 2): 3}):
            self.assertRaises(TypeError, encode, {"x": value})

    def test_non_finite(self) -> None:
        """
        NaN and the infinities raise ValueError instead of producing invalid JSON.
        """
        for value in (float("nan"), float("inf"), float("-inf")):
            self.assertRaises(ValueError, encode, [value])

    def test_circular(self) -> None:
        """
        A circular structure raises ValueError.
        """
        loop: List[Any] = []
        loop.append(loop)
        self.assertRaises(ValueError, encode, loop)

    def test_too_deep(self) -> None:
        """
        Data nested too deeply to encode raises ValueError, not RecursionError.
        """
        self.assertRaises(ValueError, encode, nested(100000))

    def test_round_trip(self) -> None:
        """
        What encode writes, decode_envelope reads back unchanged.
        """
        message = {"text": 'ü\u2028\x00"\\', "n": [0, -1, 1.5e300, 2**70], "o": {}}
        data = encode({"service": "s", "message": message})
        self.assertEqual(decode_envelope(data), ("s", message))


class DecodeEnvelopeTests(TestCase):
    """
    Tests for :func:`decode_envelope`.
    """

    def assertRejected(self, data: Any, text: str) -> None:
        """
        Assert that decoding *data* raises EnvelopeError saying *text*.
        """
        error = self.assertRaises(EnvelopeError, decode_envelope, data)
        self.assertEqual(str(error), text)

    def test_bytes_and_text(self) -> None:
        """
        A frame decodes from UTF-8 bytes or from text into (service, message).
        """
        frame = '{"service":"chat","message":{"body":"héllo"}}'
        expected = ("chat", {"body": "héllo"})
        self.assertEqual(decode_envelope(frame), expected)
        self.assertEqual(decode_envelope(frame.encode("utf-8")), expected)

    def test_any_message(self) -> None:
        """
        The message may be any JSON value, null included, and extra keys are ignored.
        """
        for message in (None, 0, "x", [], {}, False):
            frame = json.dumps({"service": "s", "message": message, "extra": 1})
            self.assertEqual(decode_envelope(frame), ("s", message))

    def test_envelope_error_is_value_error(self) -> None:
        """
        EnvelopeError is a ValueError.
        """
        self.assertTrue(issubclass(EnvelopeError, ValueError))

    def test_invalid_json(self) -> None:
        """
        Text that is not JSON is Invalid JSON.
        """
        for data in (
            b"",
            b"{",
            b"{'service': 1}",
            b'{"service":"s","message":1} x',
            b"\xef\xbb\xbf{}",
        ):
            self.assertRejected(data, "Invalid JSON")

    def test_too_long_integer(self) -> None:
        """
        An integer too long for Python to convert is Invalid JSON.
        """
        self.assertRejected(
            '{"service":"s","message":%s}' % ("9" * 5000), "Invalid JSON"
        )

    def test_not_object(self) -> None:
        """
        JSON that is not an object is rejected.
        """
        for data in (b"[]", b'"s"', b"1", b"null", b'[{"service":"s","message":1}]'):
            self.assertRejected(data, "Envelope must be an object")

    def test_service_not_string(self) -> None:
        """
        A missing or non-string service is rejected.
        """
        for data in (
            b'{"message":1}',
            b'{"service":1,"message":1}',
            b'{"service":null,"message":1}',
        ):
            self.assertRejected(data, 'Envelope needs a "service" string')

    def test_message_missing(self) -> None:
        """
        An envelope without a message is rejected.
        """
        self.assertRejected(b'{"service":"s"}', 'Envelope needs a "message"')

    def test_non_finite_constants(self) -> None:
        """
        NaN, Infinity and -Infinity are not JSON and are rejected by name.
        """
        for name in ("NaN", "Infinity", "-Infinity"):
            self.assertRejected(
                '{"service":"s","message":[%s]}' % name,
                "Invalid JSON: {} is not allowed".format(name),
            )

    def test_number_out_of_range(self) -> None:
        """
        A number too large for a float, which would become infinity, is rejected.
        """
        for number in ("1e400", "-1e400", "1" + "0" * 400 + ".0"):
            self.assertRejected(
                '{"service":"s","message":%s}' % number,
                "Invalid JSON: number out of range",
            )

    def test_large_float_accepted(self) -> None:
        """
        Large but finite numbers, and tiny ones, are accepted.
        """
        self.assertEqual(
            decode_envelope('{"service":"s","message":[1.5e308,1e-400]}'),
            ("s", [1.5e308, 0.0]),
        )

    def test_nested_too_deeply(self) -> None:
        """
        Nesting too deep for the parser is rejected, not a crash.
        """
        for opener in ("[", '{"a":'):
            self.assertRejected(
                '{"service":"s","message":' + opener * 100000,
                "Invalid JSON: nested deeper than 128 levels",
            )

    def test_depth_limit(self) -> None:
        """
        A frame exactly MAX_DEPTH levels deep (the envelope counting as one)
        decodes, and one level more is rejected with a text naming the limit.
        """
        self.assertEqual(MAX_DEPTH, 128)
        frame = json.dumps({"service": "s", "message": nested(MAX_DEPTH - 1)})
        self.assertEqual(decode_envelope(frame), ("s", nested(MAX_DEPTH - 1)))
        for message in (nested(MAX_DEPTH), {"a": [{"b": nested(MAX_DEPTH - 2)}]}):
            self.assertRejected(
                json.dumps({"service": "s", "message": message}),
                "Invalid JSON: nested deeper than 128 levels",
            )

    def test_depth_the_parser_accepts(self) -> None:
        """
        Frames about 950 levels deep, which the parser accepts but the
        encoder cannot write back, are rejected at decode time.
        """
        for depth in (950, 966):
            self.assertRejected(
                '{"service":"s","message":' + "[" * depth + "]" * depth + "}",
                "Invalid JSON: nested deeper than 128 levels",
            )

    def test_many_brackets_shallow(self) -> None:
        """
        Many containers side by side, and brackets inside strings, are not
        mistaken for depth.
        """
        message = {"wide": [[] for _ in range(1000)], "text": "[{" * 1000}
        frame = json.dumps({"service": "s", "message": message})
        self.assertEqual(decode_envelope(frame), ("s", message))

    def test_moderate_nesting(self) -> None:
        """
        Reasonable nesting decodes.
        """
        frame = json.dumps({"service": "s", "message": nested(100)})
        self.assertEqual(decode_envelope(frame), ("s", nested(100)))

    def test_invalid_utf8(self) -> None:
        """
        Bytes that are not UTF-8, overlong forms and encoded surrogates included, are
        rejected.
        """
        for data in (
            b'{"service":"s","message":"\xff"}',
            b'{"service":"s","message":"\xc0\xaf"}',
            b'{"service":"s","message":"\xed\xa0\x80"}',
            b'{"service":"s","message":"\xe2\x82"}',
        ):
            self.assertRejected(data, "Invalid UTF-8")

    def test_lone_surrogate_escape(self) -> None:
        """
        A \\u escape of an unpaired surrogate, anywhere in the frame, is rejected.
        """
        for frame in (
            r'{"service":"s","message":"\ud800"}',
            r'{"service":"s","message":"\uDC00x"}',
            r'{"service":"\udbff","message":1}',
            r'{"service":"s","message":{"\ud83d":1}}',
            r'{"service":"s","message":"\ude00\ud83d"}',
        ):
            self.assertRejected(frame, "Invalid Unicode: unpaired surrogate")
            self.assertRejected(
                frame.encode("ascii"), "Invalid Unicode: unpaired surrogate"
            )

    def test_surrogate_pair_escape(self) -> None:
        """
        A \\u escaped surrogate pair is one character and is accepted.
        """
        self.assertEqual(
            decode_envelope(rb'{"service":"s","message":"\ud83d\ude00"}'), ("s", "😀")
        )

    def test_escaped_backslash(self) -> None:
        """
        An escaped backslash followed by text that looks like an escape is plain text.
        """
        self.assertEqual(
            decode_envelope(rb'{"service":"s","message":"\\ud800"}'), ("s", "\\ud800")
        )

    def test_lone_surrogate_in_text(self) -> None:
        """
        A text frame holding a raw surrogate character is rejected.
        """
        self.assertRejected(
            '{"service":"s","message":"\ud800"}', "Invalid Unicode: unpaired surrogate"
        )

    def test_decoded_messages_encode(self) -> None:
        """
        Every message that decodes can be encoded again.
        """
        frames = [
            r'{"service":"s","message":["\ud83d\ude00", 1e308, -0.0, "\u0000"]}',
            '{"service":"s","message":{"é":"😀"}}',
        ]
        for frame in frames:
            name, message = decode_envelope(frame)
            self.assertEqual(json.loads(encode(message)), message)
