// person.js is one person in a real Matrix client library (matrix-js-sdk), doing what
// they would do in Element: log in, wait for the first sync, look at the room list and
// the invitations, browse a space's hierarchy, join and leave rooms. It reads a JSON
// scenario on stdin and prints what the client showed as JSON on stdout:
//
//   {"homeserver": "http://127.0.0.1:8008", "user": "frank", "password": "…",
//    "steps": [{"do": "rooms"}, {"do": "hierarchy", "room": "!space:localhost"},
//              {"do": "join", "room": "!room:localhost"}, {"do": "leave", "room": "…"}]}
//
// Each step's result is one entry of "steps" in the output. An error ends the run with
// exit status 1 and {"error": "…"} on stdout. The SDK's own logging goes to stderr.
import * as sdk from "matrix-js-sdk";
import { logger } from "matrix-js-sdk/lib/logger.js";

logger.setLevel("warn");
// Nothing but the result may reach stdout.
for (const level of ["log", "info", "debug", "trace", "warn"]) console[level] = console.error;

const read = async (stream) => {
  let text = "";
  for await (const chunk of stream) text += chunk;
  return JSON.parse(text);
};

// The room list as the client shows it: rooms and spaces joined or invited to, each
// with the display name the SDK computes (room.name).
const roomList = (client) =>
  client
    .getRooms()
    .filter((r) => ["join", "invite"].includes(r.getMyMembership()))
    .map((r) => ({ id: r.roomId, name: r.name, membership: r.getMyMembership(), space: r.isSpaceRoom() }))
    .sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));

// waitFor resolves once the client's store has the room with that membership.
const waitFor = (client, roomId, membership) =>
  new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${roomId} not ${membership} after 20s`)), 20000);
    const check = () => {
      if (client.getRoom(roomId)?.getMyMembership() === membership) {
        clearTimeout(timer);
        client.off(sdk.ClientEvent.Sync, check);
        client.off(sdk.RoomEvent.MyMembership, check);
        resolve();
      }
    };
    client.on(sdk.ClientEvent.Sync, check);
    client.on(sdk.RoomEvent.MyMembership, check);
    check();
  });

const steps = {
  rooms: async (client) => ({ rooms: roomList(client) }),
  invitations: async (client) => ({ invitations: roomList(client).filter((r) => r.membership === "invite") }),
  // What Element's space panel and Explore show: the rooms under a space, with the
  // children each space links to.
  hierarchy: async (client, { room }) => {
    const { rooms } = await client.getRoomHierarchy(room, 100, 2);
    return {
      hierarchy: rooms.map((r) => ({
        id: r.room_id,
        name: r.name,
        space: r.room_type === "m.space",
        joinRule: r.join_rule,
        worldReadable: r.world_readable,
        children: r.children_state
          .filter((c) => c.content?.via)
          .map((c) => ({ id: c.state_key, suggested: c.content.suggested === true })),
      })),
    };
  },
  join: async (client, { room }) => {
    const joined = await client.joinRoom(room);
    await waitFor(client, joined.roomId, "join");
    return { joined: joined.roomId };
  },
  leave: async (client, { room }) => {
    await client.leave(room);
    return { left: room };
  },
};

const main = async () => {
  const scenario = await read(process.stdin);
  const login = await sdk.createClient({ baseUrl: scenario.homeserver }).loginRequest({
    type: "m.login.password",
    identifier: { type: "m.id.user", user: scenario.user },
    password: scenario.password,
    initial_device_display_name: "collab-operator client test",
  });
  const client = sdk.createClient({
    baseUrl: scenario.homeserver,
    userId: login.user_id,
    accessToken: login.access_token,
    deviceId: login.device_id,
  });
  const synced = new Promise((resolve, reject) =>
    client.on(sdk.ClientEvent.Sync, (state, _prev, data) => {
      if (state === "PREPARED") resolve();
      if (state === "ERROR") reject(data?.error ?? new Error("the first sync failed"));
    }),
  );
  await client.startClient({ initialSyncLimit: 1, lazyLoadMembers: true });
  await synced;
  const results = [];
  try {
    for (const step of scenario.steps) {
      const run = steps[step.do];
      if (!run) throw new Error(`unknown step ${JSON.stringify(step.do)}`);
      results.push({ do: step.do, ...(await run(client, step)) });
    }
  } finally {
    client.stopClient();
    await client.logout(true).catch(() => {});
  }
  return { user: login.user_id, steps: results };
};

main().then(
  (out) => {
    process.stdout.write(JSON.stringify(out, null, 2) + "\n");
    process.exit(0);
  },
  (err) => {
    process.stdout.write(JSON.stringify({ error: `${err.name}: ${err.message}`, errcode: err.errcode }) + "\n");
    process.exit(1);
  },
);
