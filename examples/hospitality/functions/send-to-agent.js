/**
 * send-to-agent: the Action URL of the Harbour Hotel bot's `send_to_agent` task.
 *
 * Autopilot POSTs its request parameters here (form-encoded; `Memory` is a JSON string) and runs the
 * Actions JSON we return. We remember `sendToAgent: true` so the Studio flow's split can route the
 * guest to the concierge, say a hold message, and end with no `listen`: the dialogue ends and the
 * Autopilot widget fires `sessionEnded`, which is what hands the conversation to Studio.
 */

// Memory arrives as a JSON string; a missing or malformed one must not break the hand-off.
function parseMemory(raw) {
  if (typeof raw !== 'string' || raw.trim() === '') {
    return {};
  }
  try {
    const memory = JSON.parse(raw);
    return memory && typeof memory === 'object' && !Array.isArray(memory) ? memory : {};
  } catch (err) {
    return {};
  }
}

// A guest who already ordered something gets a hold message that says so.
function holdMessage(memory) {
  const collected = (memory.twilio && memory.twilio.collected_data) || {};
  const pending = ['order_food', 'deliver_roomitems', 'quantity_of_item'].some(
    (name) => collected[name] && collected[name].status === 'complete'
  );
  if (pending) {
    return 'One moment please: I am passing you and your order to our concierge team.';
  }
  return 'One moment please: I am connecting you with our concierge team.';
}

// On a phone call there is no Studio split to hand over to: the bot transfers the call itself with a
// voice `handoff` to the concierge Workflow (the volunteer-communication-center template's pattern;
// the handoff action is voice only). The SID is the hotel's voice Workflow (voice_workflow.json).
const VOICE_WORKFLOW_SID = 'WW00000000000000000000000000000002';

exports.handler = function (context, event, callback) {
  const memory = parseMemory(event.Memory);
  const actions = [{ remember: { sendToAgent: true } }, { say: holdMessage(memory) }];
  if (event.Channel === 'voice') {
    actions.push({
      handoff: { channel: 'voice', uri: `taskrouter://${VOICE_WORKFLOW_SID}`, priority: '5', timeout: '600' },
    });
  }
  callback(null, { actions });
};
