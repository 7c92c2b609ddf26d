#!/usr/bin/env python3
"""A tiny HTTP/3 client on aioquic's H3Connection API, for tests against a client we did not write.

usage: h3client.py HOST PORT [--cafile PEM] < requests.json > responses.json

stdin: a JSON list of {"method": "GET", "path": "/healthz", "body": "...", "content_type": "..."}.
stdout: a JSON list of {"status": 200, "headers": {...}, "body": "..."} in the same order.
{"bad": "data_before_headers"} instead sends a DATA frame first on a request stream (an RFC 9114
violation) and answers {"closed_with": CODE}: the error code the server closed the connection with.
All requests go concurrently on one QUIC connection. Without --cafile the certificate is not
verified (the server's self-signed one). Exit status 1 on a connection failure.
"""
import argparse
import asyncio
import json
import ssl
import sys

from aioquic.asyncio import connect
from aioquic.asyncio.protocol import QuicConnectionProtocol
from aioquic.h3.connection import H3_ALPN, FrameType, H3Connection, encode_frame
from aioquic.h3.events import DataReceived, HeadersReceived
from aioquic.quic.configuration import QuicConfiguration
from aioquic.quic.events import ConnectionTerminated


class Client(QuicConnectionProtocol):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.h3 = H3Connection(self._quic)
        self.pending = {}
        self.closed = asyncio.get_running_loop().create_future()

    def quic_event_received(self, event):
        if isinstance(event, ConnectionTerminated) and not self.closed.done():
            self.closed.set_result(event.error_code)
        for ev in self.h3.handle_event(event):
            slot = self.pending.get(getattr(ev, "stream_id", None))
            if slot is None:
                continue
            resp, done = slot
            if isinstance(ev, HeadersReceived):
                for k, v in ev.headers:
                    k, v = k.decode(), v.decode()
                    if k == ":status":
                        resp["status"] = int(v)
                    else:
                        resp["headers"][k] = v
            elif isinstance(ev, DataReceived):
                # Bytes until the end: a UTF-8 character may be split across DATA frames.
                resp["body"] += ev.data
            if getattr(ev, "stream_ended", False) and not done.done():
                resp["body"] = resp["body"].decode("utf-8", "replace")
                done.set_result(resp)

    async def request(self, authority, req):
        sid = self._quic.get_next_available_stream_id()
        if req.get("bad") == "data_before_headers":
            self._quic.send_stream_data(sid, encode_frame(FrameType.DATA, b"x"), end_stream=True)
            self.transmit()
            return {"closed_with": await asyncio.wait_for(asyncio.shield(self.closed), 10)}
        body = req.get("body", "").encode()
        headers = [
            (b":method", req.get("method", "GET").encode()),
            (b":scheme", b"https"),
            (b":authority", authority.encode()),
            (b":path", req["path"].encode()),
        ]
        if body:
            headers.append((b"content-type", req.get("content_type", "application/json").encode()))
            headers.append((b"content-length", str(len(body)).encode()))
        done = asyncio.get_running_loop().create_future()
        self.pending[sid] = ({"status": 0, "headers": {}, "body": b""}, done)
        self.h3.send_headers(sid, headers, end_stream=not body)
        if body:
            self.h3.send_data(sid, body, end_stream=True)
        self.transmit()
        try:
            return await asyncio.wait_for(done, 10)
        except asyncio.TimeoutError:
            raise TimeoutError(f"no complete response to {req.get('method', 'GET')} {req['path']} in 10 s") from None


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("--cafile")
    a = ap.parse_args()
    reqs = json.load(sys.stdin)
    cfg = QuicConfiguration(is_client=True, alpn_protocols=H3_ALPN, server_name="localhost")
    if a.cafile:
        cfg.load_verify_locations(a.cafile)
    else:
        cfg.verify_mode = ssl.CERT_NONE
    async with connect(a.host, a.port, configuration=cfg, create_protocol=Client) as c:
        out = await asyncio.gather(*(c.request(f"{a.host}:{a.port}", r) for r in reqs))
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except Exception as e:  # one line for the test's failure message
        print(f"h3client: {type(e).__name__}: {e}", file=sys.stderr)
        sys.exit(1)
