/*
 * The SockJS client scenario shared by the Node and Chromium tests: echo
 * awkward payloads through a raw echo resource, then make a Snorky RPC
 * call and receive a PubSub notification through a Snorky resource.
 * Loaded with require() in Node and with a <script> tag in the browser
 * (as window.sockjsScenario).
 */
(function (root, factory) {
  "use strict";
  if (typeof module === "object" && module.exports) {
    module.exports = factory();
  } else {
    root.sockjsScenario = factory();
  }
})(this, function () {
  "use strict";

  var STEP_TIMEOUT_MS = 20000;

  /*
   * Messages that look percent-encoded: sockjs-client runs decodeURI on
   * every eventsource frame, so the server must escape them.
   */
  var PERCENT = ["%", "%00", "%%", "100%", "%E2%80%A8", "%41", "%25", "50% off"];

  /** The messages sent to the echo resource, in order. */
  function payloads() {
    var big = new Array(100 * 1024 + 1).join("x");
    var list = [
      "hello",
      "\u00fcn\u00efc\u00f6d\u00e9 \u2603 \ud834\udd1e \u4e2d\u6587",
      "line\u2028separator\u2029paragraph",
      "</script><script>throw 1</script>",
      "<!-- not a comment -->",
      "\u0000\u0001\u001f controls \n\r\t",
      "\u200c\u200f\u2060\ufeff\ufff0\uffff specials",
      "\"quotes\" and \\backslashes\\",
      "",
      big
    ].concat(PERCENT);
    for (var i = 0; i < 200; i++) {
      list.push("burst " + i);
    }
    list.push(big + "\u2603");
    return list;
  }

  /** Reject after the step timeout, naming the step. */
  function bounded(promise, what) {
    return new Promise(function (resolve, reject) {
      var timer = setTimeout(function () {
        reject(new Error("timed out: " + what));
      }, STEP_TIMEOUT_MS);
      promise.then(function (value) {
        clearTimeout(timer);
        resolve(value);
      }, function (err) {
        clearTimeout(timer);
        reject(err);
      });
    });
  }

  /*
   * Open a SockJS connection with exactly one transport; resolve with
   * {sock, next, closed}: next() resolves with the next message,
   * closed resolves with the close event.
   */
  function connect(SockJS, url, transport) {
    return new Promise(function (resolve, reject) {
      var sock = new SockJS(url, null, {transports: [transport], timeout: 15000});
      var inbox = [];
      var waiting = [];
      var closedResolve;
      var closed = new Promise(function (r) { closedResolve = r; });
      sock.onmessage = function (e) {
        if (waiting.length) {
          waiting.shift()(e.data);
        } else {
          inbox.push(e.data);
        }
      };
      sock.onopen = function () {
        if (sock.transport !== transport) {
          reject(new Error("opened with " + sock.transport + " not " + transport));
          sock.close();
          return;
        }
        resolve({
          sock: sock,
          closed: closed,
          next: function () {
            if (inbox.length) {
              return Promise.resolve(inbox.shift());
            }
            return new Promise(function (r) { waiting.push(r); });
          }
        });
      };
      sock.onclose = function (e) {
        closedResolve(e);
        reject(new Error("closed before open: " + e.code + " " + e.reason));
      };
    });
  }

  function closeCleanly(conn) {
    conn.sock.close();
    return bounded(conn.closed, "close").then(function (e) {
      if (e.code !== 1000) {
        throw new Error("closed with " + e.code + " " + e.reason);
      }
    });
  }

  function echo(SockJS, url, transport) {
    var sent = payloads();
    return bounded(connect(SockJS, url, transport), "open echo").then(function (conn) {
      sent.forEach(function (m) { conn.sock.send(m); });
      var got = [];
      function collect() {
        if (got.length === sent.length) {
          return Promise.resolve();
        }
        return conn.next().then(function (m) { got.push(m); return collect(); });
      }
      return bounded(collect(), "echo of " + sent.length + " messages").then(function () {
        for (var i = 0; i < sent.length; i++) {
          if (got[i] !== sent[i]) {
            throw new Error("message " + i + " differs: " +
                            JSON.stringify(got[i]).slice(0, 80));
          }
        }
        return closeCleanly(conn);
      }).then(function () { return sent.length; });
    });
  }

  /*
   * Ask the batch resource to send back a list in one go: the first
   * message ends the waiting response, the others travel batched in one
   * frame. Resolve with the number of messages received intact.
   */
  function batch(SockJS, url, transport) {
    var sent = ["first"].concat(PERCENT, ["last"]);
    return bounded(connect(SockJS, url, transport), "open batch").then(function (conn) {
      conn.sock.send(JSON.stringify(sent));
      var got = [];
      function collect() {
        if (got.length === sent.length) {
          return Promise.resolve();
        }
        return conn.next().then(function (m) { got.push(m); return collect(); });
      }
      return bounded(collect(), "batch of " + sent.length + " messages").then(function () {
        if (JSON.stringify(got) !== JSON.stringify(sent)) {
          throw new Error("batch differs: " + JSON.stringify(got).slice(0, 200));
        }
        return closeCleanly(conn);
      }).then(function () { return sent.length; });
    });
  }

  function snorky(SockJS, url, transport) {
    var text = "</script> \u2028 \u2603";
    return bounded(connect(SockJS, url, transport), "open snorky").then(function (conn) {
      function call(service, command, params, callId) {
        conn.sock.send(JSON.stringify({
          service: service,
          message: {command: command, params: params, callId: callId}
        }));
      }
      function expect(check, what) {
        return bounded(conn.next(), what).then(function (data) {
          var envelope = JSON.parse(data);
          if (!check(envelope)) {
            throw new Error(what + ": unexpected " + data.slice(0, 200));
          }
          return envelope;
        });
      }
      call("text", "reverse", {text: text}, 1);
      return expect(function (e) {
        return e.service === "text" && e.message.type === "response" &&
          e.message.callId === 1 &&
          e.message.data === text.split("").reverse().join("");
      }, "rpc response").then(function () {
        call("pubsub", "subscribe", {channel: "news"}, 2);
        return expect(function (e) {
          return e.message.type === "response" && e.message.callId === 2;
        }, "subscribe response");
      }).then(function () {
        call("pubsub", "publish", {channel: "news", message: {text: text}}, 3);
        return expect(function (e) {
          return e.service === "pubsub" && e.message.type === "message" &&
            e.message.channel === "news" && e.message.message.text === text;
        }, "pubsub notification");
      }).then(function () {
        return expect(function (e) {
          return e.message.type === "response" && e.message.callId === 3;
        }, "publish response");
      }).then(function () {
        return closeCleanly(conn);
      });
    });
  }

  /**
   * Run the scenario over one transport; resolve with a result object
   * {transport, echoed, batched, snorky, error}.
   */
  function run(SockJS, baseUrl, transport) {
    var result = {transport: transport, echoed: 0, batched: 0, snorky: false, error: null};
    return echo(SockJS, baseUrl + "/echo", transport).then(function (n) {
      result.echoed = n;
      return batch(SockJS, baseUrl + "/batch", transport);
    }).then(function (n) {
      result.batched = n;
      return snorky(SockJS, baseUrl + "/sockjs", transport);
    }).then(function () {
      result.snorky = true;
      return result;
    }, function (err) {
      result.error = String(err && err.message || err);
      return result;
    });
  }

  return {run: run, payloads: payloads, PERCENT: PERCENT};
});
