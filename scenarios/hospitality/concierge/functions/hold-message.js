/** hold-message: the last words before the concierge takes over; no listen, so the dialogue ends. */
exports.handler = function (context, event, callback) {
  callback(null, { actions: [{ say: 'One moment please: our concierge team will take it from here.' }] });
};
