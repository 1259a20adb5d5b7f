#!/usr/bin/env node
// Reference engine.io / socket.io servers for tests/streams/test_engineio_interop.py.
//
//   node server.js FLAVOUR PORT      (PORT 0 picks a free one)
//
// FLAVOUR: eio3             engine.io 3.6 (EIO=3), socket.io v2 framing done here
//          eio6             engine.io 6.6 (EIO=4 only), socket.io v5 framing done here
//          eio6-allow-eio3  engine.io 6.6 with allowEIO3 (EIO=3 and EIO=4)
//          sio2             socket.io 2.5 (engine.io 3.6 underneath)
//
// Binds 127.0.0.1 only, websocket at /socket.io/. Every namespace connection gets the event
// "tick" with {"n": 0, 1, 2, …}, one per TICK_MS on average (a late timer is caught up, so
// the count follows the clock). Reports on stdout, one line each:
//   listening PORT          the server is up
//   open SID PROTOCOL       an engine.io session began (PROTOCOL 3 or 4)
//   join SID NAMESPACE      a socket.io namespace connect on it: its ticks start
//   heartbeat SID           a client ping (EIO=3) or pong (EIO=4) arrived
//   close SID REASON        the session ended, with engine.io's reason ("ping timeout", …)
//   refused CODE MESSAGE    engine.io 6 turned a handshake down
"use strict";

const http = require("http");
const { performance } = require("perf_hooks");

const PING_INTERVAL_MS = 500;
const PING_TIMEOUT_MS = 400;
const TICK_MS = 10;
const PATH = "/socket.io";

const [flavour, portArg] = process.argv.slice(2);
const port = Number(portArg || 0);
const say = (line) => process.stdout.write(line + "\n");
const options = { path: PATH, pingInterval: PING_INTERVAL_MS, pingTimeout: PING_TIMEOUT_MS };

// What engine.io gives beside a close reason (an Error, or the websocket's close details).
function describe(description) {
  if (description === undefined || description === null) return "";
  const text = description instanceof Error ? description.message : JSON.stringify(description);
  return ` (${text})`;
}

// Calls send({n}) for n = 0, 1, 2, … at one per TICK_MS on average; returns the stopper.
function ticker(send) {
  const start = performance.now();
  let n = 0;
  const timer = setInterval(() => {
    const due = Math.floor((performance.now() - start) / TICK_MS) + 1;
    while (n < due) send({ n: n++ });
  }, TICK_MS);
  return () => clearInterval(timer);
}

// open / heartbeat / close lines for one engine.io socket.
function report(socket) {
  say(`open ${socket.id} ${socket.protocol || 3}`); // engine.io 3 has no protocol field
  socket.on("heartbeat", () => say(`heartbeat ${socket.id}`));
  socket.on("close", (reason, description) => say(`close ${socket.id} ${reason}${describe(description)}`));
}

// A bare engine.io socket with socket.io framing done by hand: the message "0" is the
// namespace connect (on the wire "40"), '2["tick",…]' an event ("42[…]").
function serveEngineSocket(socket) {
  report(socket);
  let stop = null;
  const join = (packet) => {
    socket.send(packet);
    say(`join ${socket.id} /`);
    stop = ticker((data) => socket.send("2" + JSON.stringify(["tick", data])));
  };
  socket.on("close", () => stop !== null && stop());
  if ((socket.protocol || 3) === 3) {
    join("0"); // socket.io v2: the server joins the client to "/" unasked
  } else {
    socket.on("message", (data) => {
      // socket.io v5: the client asks to join "/" with "0", the server answers with its sid
      if (stop === null && typeof data === "string" && (data === "0" || data.startsWith("0{"))) {
        join("0" + JSON.stringify({ sid: socket.id }));
      }
    });
  }
}

const httpServer = http.createServer((req, res) => {
  res.writeHead(404);
  res.end();
});

if (flavour === "eio3") {
  const engine = require("engine.io-v3");
  engine.attach(httpServer, { ...options, transports: ["websocket"] }).on("connection", serveEngineSocket);
} else if (flavour === "eio6" || flavour === "eio6-allow-eio3") {
  const engine = require("engine.io-v6");
  engine
    .attach(httpServer, { ...options, transports: ["websocket"], allowEIO3: flavour === "eio6-allow-eio3" })
    .on("connection", serveEngineSocket)
    .on("connection_error", (error) => say(`refused ${error.code} ${error.message}`));
} else if (flavour === "sio2") {
  const io = require("socket.io-v2")(httpServer, { ...options, serveClient: false });
  io.engine.on("connection", report);
  io.on("connection", (s) => {
    say(`join ${s.conn.id} ${s.nsp.name}`);
    const stop = ticker((data) => s.emit("tick", data));
    s.on("disconnect", stop);
  });
} else {
  process.stderr.write(`unknown flavour ${JSON.stringify(flavour)}: eio3, eio6, eio6-allow-eio3 or sio2\n`);
  process.exit(2);
}

httpServer.listen(port, "127.0.0.1", () => say(`listening ${httpServer.address().port}`));

for (const signal of ["SIGTERM", "SIGINT"]) {
  process.on(signal, () => process.exit(0));
}
