// Reads one iCalendar object from stdin as a calendar client would, with ical.js, and prints
// what it understood as JSON: the method, the event's identity and its times in UTC.
import ICAL from "ical.js";

let text = "";
for await (const chunk of process.stdin) text += chunk;
const calendar = new ICAL.Component(ICAL.parse(text));
for (const zone of calendar.getAllSubcomponents("vtimezone")) {
  ICAL.TimezoneService.register(new ICAL.Timezone(zone));
}
const [vevent] = calendar.getAllSubcomponents("vevent");
const event = new ICAL.Event(vevent);
console.log(JSON.stringify({
  method: calendar.getFirstPropertyValue("method"),
  uid: event.uid,
  sequence: event.sequence,
  status: vevent.getFirstPropertyValue("status"),
  summary: event.summary,
  tzid: event.startDate.zone.tzid,
  start: event.startDate.toJSDate().toISOString(),
  end: event.endDate.toJSDate().toISOString(),
  attendees: event.attendees.map((a) => a.getFirstValue()),
}));
