"""files.getUploadURLExternal / files.completeUploadExternal: the upload flow of files_upload_v2.

Between the two calls the client POSTs the bytes to the upload URL, which the server stores in
``ws.pending_uploads`` (see server.receive_upload).
"""

from __future__ import annotations

from .common import Args, Registry, SlackError
from .methods_chat import destination
from .state import Workspace

HANDLERS = Registry()


@HANDLERS.method("files.getUploadURLExternal")
def get_upload_url(ws: Workspace, args: Args) -> dict:
    filename = args.get_str("filename") or ""
    length = args.get_int("length", 0)
    if not filename or length <= 0:
        raise SlackError("invalid_arguments")
    file_id = ws.new_id("F")
    ws.pending_uploads[file_id] = {"id": file_id, "filename": filename, "length": length, "content": None}
    return {"upload_url": f"{ws.base_url}/upload/{file_id}", "file_id": file_id}


@HANDLERS.method("files.completeUploadExternal")
def complete_upload(ws: Workspace, args: Args) -> dict:
    items = args.get_json("files")
    if not isinstance(items, list) or not items or not all(isinstance(i, dict) and i.get("id") for i in items):
        raise SlackError("invalid_arguments")
    uploads = []
    for item in items:
        upload = ws.pending_uploads.get(item["id"])
        if upload is None or upload["content"] is None:
            raise SlackError("file_not_found")
        uploads.append(upload)
    channel_ids = args.get_list("channels") or args.get_list("channel_id")
    channels = [destination(ws, Args(channel=cid)) for cid in channel_ids]
    comment = args.get_str("initial_comment") or ""
    shown = []
    for item, upload in zip(items, uploads, strict=True):
        del ws.pending_uploads[upload["id"]]
        title = item.get("title") or upload["filename"]
        stored = {
            "id": upload["id"],
            "filename": upload["filename"],
            "title": title,
            "content": upload["content"],
            "channel_id": channels[0].id if channels else None,
            "initial_comment": comment or None,
        }
        ws.files.append(stored)
        shown.append(_file_json(ws, stored, [c.id for c in channels]))
    for channel in channels:
        ws.post(channel, ws.bot_user_id, text=comment, files=shown, thread_ts=args.get_str("thread_ts") or None)
    return {"files": shown}


def _file_json(ws: Workspace, stored: dict, channel_ids: list[str]) -> dict:
    file_id = stored["id"]
    return {
        "id": file_id,
        "name": stored["filename"],
        "title": stored["title"],
        "created": ws.now(),
        "timestamp": ws.now(),
        "mimetype": "application/octet-stream",
        "filetype": stored["filename"].rsplit(".", 1)[-1] if "." in stored["filename"] else "binary",
        "user": ws.bot_user_id,
        "size": len(stored["content"]),
        "is_external": False,
        "is_public": bool(channel_ids),
        "url_private": f"{ws.base_url}/files/{file_id}/{stored['filename']}",
        "permalink": f"https://fake.slack.com/files/{ws.bot_user_id}/{file_id}/{stored['filename']}",
        "channels": channel_ids,
        "groups": [],
        "ims": [],
        "shares": {},
    }
