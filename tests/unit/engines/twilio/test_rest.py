"""The fake Twilio REST API: twilio-python via http_client(), `requests` via intercept(), spec checks."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from typing import Any

import pytest
import requests
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from harness.engines.twilio.rest import FakeTwilioApi, OpenApiIndex, TwilioApiMismatch
from harness.engines.twilio.server import LocalServer
from harness.engines.twilio.taskrouter import FakeTaskRouter, load_workflow
from harness.errors import ExpectationFailed, LoadError, UsageError
from harness.sids import SidFactory
from tests.conftest import real_path  # skips a test where shared/real (the twilio-oai specs) is absent

AC, WS, FW = "AC" + "a" * 32, "WS" + "b" * 32, "FW" + "c" * 32
WW = "WWd42d9fcb655eea2fc0c6210d1b775205"  # api-snippets__workflows-create-response.json
MARKETING = "WQ942eb82719318338f9c741ca53fd8927"


def _specs() -> OpenApiIndex:
    return OpenApiIndex.cached(real_path("openapi"))


def _schema_fields(name: str) -> set[str]:
    return set(_specs().schemas[name]["properties"])


@pytest.fixture
def fake() -> FakeTwilioApi:
    workflow = load_workflow(real_path("taskrouter/api-snippets__workflows-create-response.json"))
    sids = SidFactory("rest-test")
    router = FakeTaskRouter({WW: workflow}, sids=sids)
    return FakeTwilioApi(_specs(), sids=sids, taskrouter=router)


@pytest.fixture
def client(fake: FakeTwilioApi) -> Client:
    return Client(AC, "auth-token", http_client=fake.http_client())


def test_index_reads_hosts_operations_and_required_parameters() -> None:
    index = _specs()
    assert index.hosts == ["autopilot.twilio.com", "flex-api.twilio.com", "studio.twilio.com",
                           "taskrouter.twilio.com"]
    execution = index.operation("POST", "studio.twilio.com", "/v2/Flows/{FlowSid}/Executions")
    assert execution is not None and execution.required == ("To", "From") and execution.success_status == 201
    task = index.operation("POST", "taskrouter.twilio.com", "/v1/Workspaces/{WorkspaceSid}/Tasks")
    assert task is not None and task.operation_id == "CreateTask" and "Attributes" in task.parameters
    assert task.response_schema == "taskrouter.v1.workspace.task"
    assert index.covers("taskrouter.dublin.ie1.twilio.com") and not index.covers("api.twilio.com")
    assert OpenApiIndex.cached(real_path("openapi")) is index  # compiled once


def test_client_creates_a_routed_task(fake: FakeTwilioApi, client: Client) -> None:
    task = client.taskrouter.v1.workspaces(WS).tasks.create(
        workflow_sid=WW, task_channel="chat", attributes=json.dumps({"type": "marketing", "name": "Ana"}),
        priority=3)
    assert (task.task_queue_sid, task.assignment_status, task.priority) == (MARKETING, "pending", 3)
    assert task.workspace_sid == WS and task.sid.startswith("WT")
    [call] = fake.calls
    assert (call.method, call.host, call.template) == \
        ("POST", "taskrouter.twilio.com", "/v1/Workspaces/{WorkspaceSid}/Tasks")
    assert call.path_params == {"WorkspaceSid": WS} and call.status == 201
    assert call.data["WorkflowSid"] == WW and call.data["Priority"] == "3"  # as on the wire
    assert call.headers.get("Authorization") in (None, "<redacted>")
    assert set(call.response) == _schema_fields("taskrouter.v1.workspace.task")
    assert fake.taskrouter.tasks[0].parsed_attributes["name"] == "Ana"


def test_client_starts_a_studio_execution(fake: FakeTwilioApi, client: Client) -> None:
    execution = client.studio.v2.flows(FW).executions.create(
        to="+15005550006", from_="+15005550001", parameters={"reason": "booking"})
    assert execution.sid.startswith("FN") and execution.status == "active" and execution.flow_sid == FW
    assert execution.contact_channel_address == "+15005550006"
    assert fake.executions[0]["context"] == {"flow": {"data": {"reason": "booking"}}}
    assert set(fake.calls[0].response) == _schema_fields("studio.v2.flow.execution")


def test_task_refused_by_taskrouter_is_a_400_with_twilio_error_json(client: Client) -> None:
    with pytest.raises(TwilioRestException) as caught:
        client.taskrouter.v1.workspaces(WS).tasks.create(workflow_sid=WW, attributes='{"type": ')
    assert caught.value.status == 400 and caught.value.code == 20001
    assert "not valid JSON" in caught.value.msg


def test_missing_required_parameter_is_twilios_400(fake: FakeTwilioApi, client: Client) -> None:
    # twilio_studio_v2.json CreateExecution: requestBody `required: [To, From]`; Twilio answers 400, 20001.
    with pytest.raises(TwilioRestException) as caught:
        client.studio.v2.flows(FW).executions.create(to="+15005550006", from_=None)
    assert caught.value.status == 400 and caught.value.code == 20001
    assert caught.value.msg.endswith(": Missing required parameter From in the post body")
    assert fake.calls[-1].status == 400 and fake.calls[-1].data == {"To": "+15005550006"}
    assert fake.failures == []  # Twilio's own answer, not a mismatch of the fake


def test_unknown_path_and_wrong_method_fail(client: Client) -> None:
    closest = r"has no path .*closest: /v1/Workspaces/\{WorkspaceSid\}/Tasks"
    with pytest.raises(TwilioApiMismatch, match=closest):
        client.request("POST", f"https://taskrouter.twilio.com/v1/Workspaces/{WS}/Taskz", data={"a": "b"})
    with pytest.raises(TwilioApiMismatch, match=r"does not take DELETE \(it takes GET, POST\)"):
        client.request("DELETE", f"https://taskrouter.twilio.com/v1/Workspaces/{WS}/Tasks")


def test_path_parameter_pattern_is_checked(client: Client) -> None:
    with pytest.raises(TwilioApiMismatch, match=r"WorkspaceSid='WS-sandbox' does not match"):
        client.taskrouter.v1.workspaces("WS-sandbox").tasks.create(attributes="{}")


def test_spec_valid_request_without_route_lists_why_each_route_missed(fake: FakeTwilioApi,
                                                                       client: Client) -> None:
    fake.add("GET", "/v1/Workspaces/{WorkspaceSid}/Workers", json={"workers": []})
    fake.add("POST", f"https://taskrouter.twilio.com/v1/Workspaces/{WS}/Tasks/{{Sid}}", json={})
    with pytest.raises(TwilioApiMismatch) as caught:
        client.taskrouter.v1.workspaces(WS).tasks("WT" + "1" * 32).fetch()
    text = caught.value.render()
    assert "spec: valid (FetchTask)" in text
    assert "does not match /v1/Workspaces/{WorkspaceSid}/Workers" in text
    assert "method GET is not POST" in text


def test_routes_answer_in_order_and_assert_all_called(fake: FakeTwilioApi, client: Client) -> None:
    sid = "WT" + "1" * 32
    first = fake.add("GET", "/v1/Workspaces/{WorkspaceSid}/Tasks/{Sid}", times=1,
                     json=lambda call: {"sid": call.path_params["Sid"], "assignment_status": "reserved"})
    fake.add("GET", "/v1/Workspaces/{WorkspaceSid}/Tasks/{Sid}",
             json={"sid": sid, "assignment_status": "assigned"})
    unused = fake.add("POST", "/v1/Workspaces/{WorkspaceSid}/Workers", json={})
    statuses = [client.taskrouter.v1.workspaces(WS).tasks(sid).fetch().assignment_status for _ in range(3)]
    assert statuses == ["reserved", "assigned", "assigned"]
    assert len(first.calls) == 1 and fake.calls_to("GET", "/v1/Workspaces/{WorkspaceSid}/Tasks/{Sid}")
    with pytest.raises(ExpectationFailed, match=re.escape("POST /v1/Workspaces/{WorkspaceSid}/Workers")):
        fake.assert_all_called()
    unused.calls.append(fake.calls[0])
    fake.assert_all_called()


def test_callback_route_can_answer_an_error(fake: FakeTwilioApi, client: Client) -> None:
    fake.add("GET", "/v1/Workspaces/{WorkspaceSid}/Tasks/{Sid}",
             callback=lambda call: (404, {"code": 20404, "message": "not found", "status": 404}))
    with pytest.raises(TwilioRestException) as caught:
        client.taskrouter.v1.workspaces(WS).tasks("WT" + "1" * 32).fetch()
    assert caught.value.status == 404 and fake.calls[-1].status == 404


def test_messages_go_to_the_outbox(fake: FakeTwilioApi, client: Client) -> None:
    message = client.messages.create(to="whatsapp:+15005550006", from_="whatsapp:+15005550001", body="Hi")
    assert message.sid.startswith("SM") and message.status == "queued"
    assert fake.outbox.bodies("whatsapp") == ["Hi"]
    with pytest.raises(TwilioRestException) as caught:
        client.messages.create(to="whatsapp:+15005550006", from_="+15005550001", body="Hi")
    assert caught.value.code == 21910
    with pytest.raises(TwilioRestException) as caught:
        client.messages.create(to="+15005550006", from_="+15005550001")
    assert caught.value.code == 21602


def test_interaction_creates_a_task_with_flex_attributes(fake: FakeTwilioApi, client: Client) -> None:
    conversation = "CH" + "d" * 32
    interaction = client.flex_api.v1.interaction.create(
        channel={"type": "whatsapp", "initiated_by": "customer",
                 "properties": {"media_channel_sid": conversation}},
        routing={"properties": {"workspace_sid": WS, "workflow_sid": WW, "task_channel_unique_name": "chat",
                                "attributes": {"type": "support", "channelType": "web"}}})
    assert interaction.sid.startswith("KD") and interaction.channel["type"] == "whatsapp"
    [task] = fake.taskrouter.tasks
    attributes = task.parsed_attributes
    assert attributes["conversationSid"] == conversation
    assert attributes["flexInteractionSid"] == interaction.sid
    assert attributes["channelType"] == "web"  # the flow's value is kept
    assert interaction.routing["properties"]["sid"] == task.sid
    assert set(fake.calls[0].response) == _schema_fields("flex.v1.interaction")


def test_edge_and_region_hosts_are_checked_against_the_same_spec(fake: FakeTwilioApi) -> None:
    region = Client(AC, "token", http_client=fake.http_client(), edge="dublin", region="ie1")
    with pytest.raises(TwilioRestException, match="Missing required parameter From"):
        region.studio.v2.flows(FW).executions.create(to="+15005550006", from_=None)
    assert fake.calls[-1].host == "studio.dublin.ie1.twilio.com"


def test_without_specs_requests_are_recorded_unchecked() -> None:
    fake = FakeTwilioApi(None)
    client = Client(AC, "token", http_client=fake.http_client())
    fake.add("POST", "/v2/Flows/{FlowSid}/Executions/{Sid}", json={"sid": "FN1", "status": "ended"})
    assert client.studio.v2.flows(FW).executions("FN1").update(status="ended").status == "ended"
    with pytest.raises(TwilioApiMismatch, match="not checked"):
        client.request("GET", "https://studio.twilio.com/v2/Nowhere")


def test_bad_specs_folder_is_a_load_error(tmp_path: Any) -> None:
    with pytest.raises(LoadError, match="not found"):
        OpenApiIndex(tmp_path / "missing")
    with pytest.raises(LoadError, match=r"no \*\.json"):
        OpenApiIndex(tmp_path)
    with pytest.raises(UsageError):
        FakeTwilioApi(None).add("FETCH", "/v1/x")


# --- intercept(): `requests` calls ---------------------------------------------------------------------

def test_intercept_answers_requests_and_the_default_twilio_client(fake: FakeTwilioApi) -> None:
    with fake.intercept():
        reply = requests.post(f"https://studio.twilio.com/v2/Flows/{FW}/Executions",
                              data={"To": "+15005550006", "From": "+15005550001"}, timeout=5)
        assert reply.status_code == 201 and reply.json()["sid"].startswith("FN")
        task = Client(AC, "token").taskrouter.v1.workspaces(WS).tasks.create(
            workflow_sid=WW, attributes='{"type": "marketing"}')
        assert task.task_queue_sid == MARKETING
    assert [call.template for call in fake.calls] == \
        ["/v2/Flows/{FlowSid}/Executions", "/v1/Workspaces/{WorkspaceSid}/Tasks"]
    assert fake.calls[0].data == {"To": "+15005550006", "From": "+15005550001"}


def test_intercept_blocks_unanswered_twilio_requests(fake: FakeTwilioApi) -> None:
    with fake.intercept():
        with pytest.raises(TwilioApiMismatch, match="no route answers it"):
            requests.get(f"https://api.twilio.com/2010-04-01/Accounts/{AC}/Calls.json", timeout=5)
        refused = requests.post(f"https://studio.twilio.com/v2/Flows/{FW}/Executions", data={"To": "+1"},
                                timeout=5)
        assert refused.status_code == 400 and refused.json()["code"] == 20001
    assert [call.host for call in fake.calls] == ["api.twilio.com", "studio.twilio.com"]


def _app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"vendor ok"]


@pytest.mark.network
def test_intercept_lets_other_hosts_through(fake: FakeTwilioApi) -> None:
    with LocalServer(_app) as server, fake.intercept():
        assert requests.get(server.url("/handoff"), timeout=5).text == "vendor ok"
    assert fake.calls == []
