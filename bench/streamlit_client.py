"""A light client of Streamlit's own protocol: what a browser tab sends and receives, without the browser.

It speaks the same websocket (`/_stcore/stream`, protobuf `BackMsg` up, `ForwardMsg` down) and the same
upload route (`/_stcore/upload_file/...`, with the XSRF cookie and header) as the real frontend, so the
server does exactly the work a visitor's tab gives it: sessions, script runs, widget states, uploads.
Elements are kept by label, so a scenario can set a slider or press a button by what the screen says.
"""
from __future__ import annotations

import asyncio
import time
import urllib.request
import uuid
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import urllib3
import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.Common_pb2 import DoubleArray, FileUploaderState, UploadedFileInfo
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState

TEXT_ELEMENTS = ("markdown", "alert", "heading", "text", "code")


@dataclass
class Screen:
    """What one script run put on the page: widgets by label, and every text shown."""

    widgets: dict[str, tuple[str, object]] = field(default_factory=dict)  # label → (kind, proto)
    fragments: dict[str, str] = field(default_factory=dict)  # widget id → the fragment it sits in
    texts: list[str] = field(default_factory=list)

    def add(self, delta) -> None:
        element = delta.new_element
        kind = element.WhichOneof("type")
        proto = getattr(element, kind)
        if kind in TEXT_ELEMENTS:
            self.texts.append(proto.body)
        elif hasattr(proto, "id") and hasattr(proto, "label"):
            self.widgets.setdefault(proto.label, (kind, proto))
            if delta.fragment_id:
                self.fragments[proto.id] = delta.fragment_id

    def find(self, label_start: str):
        return next(proto for label, (_, proto) in self.widgets.items() if label.startswith(label_start))

    @property
    def text(self) -> str:
        return "\n".join(self.texts)


class Visitor:
    """One browser tab: its cookies (the XSRF token, and the workspace), its session, its widget states."""

    def __init__(self, base_url: str, workspace: str):
        self.base = base_url.rstrip("/")
        self.workspace = workspace
        self.xsrf = ""
        self.session_id = ""
        self.states: dict[str, WidgetState] = {}
        self.socket = None

    @property
    def cookies(self) -> str:
        return f"_streamlit_xsrf={self.xsrf}; studio_workspace={self.workspace}"

    async def connect(self) -> None:
        self.xsrf = await asyncio.to_thread(self._xsrf_cookie)
        host = urlsplit(self.base).netloc
        self.socket = await websockets.connect(
            f"ws://{host}/_stcore/stream", subprotocols=["streamlit", self.xsrf], max_size=None,
            additional_headers={"Cookie": self.cookies, "Origin": self.base}, open_timeout=60)

    def _xsrf_cookie(self) -> str:
        with urllib.request.urlopen(f"{self.base}/_stcore/health", timeout=30) as response:
            for header in response.headers.get_all("Set-Cookie") or []:
                if header.startswith("_streamlit_xsrf="):
                    return header.split(";", 1)[0].split("=", 1)[1]
        return ""

    async def close(self) -> None:
        if self.socket is not None:
            await self.socket.close()

    async def run(self, page: str, query: str = "", fragment: str = "", timeout: float = 120) -> Screen:
        """Rerun the script on `page` (or only `fragment`, as the browser does for a widget inside one) with
        the current widget states; the screen once the run finished."""
        message = BackMsg()
        message.rerun_script.query_string = query
        message.rerun_script.page_name = page
        message.rerun_script.fragment_id = fragment
        message.rerun_script.widget_states.widgets.extend(self.states.values())
        await self.socket.send(message.SerializeToString())
        screen, deadline = Screen(), time.monotonic() + timeout
        while True:
            reply = ForwardMsg()
            reply.ParseFromString(await asyncio.wait_for(self.socket.recv(), deadline - time.monotonic()))
            kind = reply.WhichOneof("type")
            if kind == "new_session":
                self.session_id = reply.new_session.initialize.session_id
            elif kind == "delta" and reply.delta.WhichOneof("type") == "new_element":
                screen.add(reply.delta)
            elif kind == "script_finished" and reply.script_finished != ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                return screen
            elif kind == "script_finished":  # the script asked for a rerun (st.rerun): its screen is the next
                screen = Screen()

    def set(self, proto, **value) -> None:
        """The state a widget would send: `set(number_input, int_value=2000)`."""
        self.states[proto.id] = WidgetState(id=proto.id, **value)

    def slide(self, slider, *values: float) -> None:
        self.states[slider.id] = WidgetState(id=slider.id, double_array_value=DoubleArray(data=values))

    def press(self, button) -> None:
        self.states[button.id] = WidgetState(id=button.id, trigger_value=True)

    def release_triggers(self) -> None:
        """A button's press lasts one run, as in the browser."""
        self.states = {key: s for key, s in self.states.items() if s.WhichOneof("value") != "trigger_value"}

    async def upload(self, uploader, files: list[tuple[str, bytes]]) -> None:
        """Put files through the upload route, then give the uploader their ids, as the frontend does: they join
        the files uploaded to it before (a multiple-file uploader keeps them until they are removed)."""
        request = BackMsg()
        request.file_urls_request.request_id = uuid.uuid4().hex
        request.file_urls_request.session_id = self.session_id
        request.file_urls_request.file_names.extend(name for name, _ in files)
        await self.socket.send(request.SerializeToString())
        while True:
            reply = ForwardMsg()
            reply.ParseFromString(await asyncio.wait_for(self.socket.recv(), 60))
            if reply.WhichOneof("type") == "file_urls_response":
                break
        infos = []
        for (name, data), urls in zip(files, reply.file_urls_response.file_urls):
            await asyncio.to_thread(self._put, urls.upload_url, name, data)
            infos.append(UploadedFileInfo(name=name, size=len(data), file_id=urls.file_id, file_urls=urls))
        before = self.states.get(uploader.id)
        kept = list(before.file_uploader_state_value.uploaded_file_info) if before is not None else []
        self.states[uploader.id] = WidgetState(
            id=uploader.id, file_uploader_state_value=FileUploaderState(uploaded_file_info=kept + infos))

    def _put(self, url: str, name: str, data: bytes) -> None:
        body, content_type = urllib3.encode_multipart_formdata({"file": (name, data)})
        target = url if url.startswith("http") else f"{self.base}{url}"
        request = urllib.request.Request(target, data=body, method="PUT", headers={
            "Content-Type": content_type, "X-Xsrftoken": self.xsrf, "Cookie": self.cookies})
        with urllib.request.urlopen(request, timeout=60):
            pass
