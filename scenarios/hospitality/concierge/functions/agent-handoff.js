/**
 * agent-handoff: the Action URL of the concierge bot's `agent` task.
 *
 * It logs who is handed off (the scenario's transcript shows the line), remembers the hand-off flag the
 * Studio flow splits on, and sends Autopilot on to the hold message, building that URL from
 * context.DOMAIN_NAME as deployed Functions do.
 */
exports.handler = function (context, event, callback) {
  console.log(`handing ${event.UserIdentifier} to the concierge after ${event.CurrentTask}`);
  callback(null, {
    actions: [
      { remember: { sendToAgent: true } },
      { redirect: `https://${context.DOMAIN_NAME}/hold-message` },
    ],
  });
};
