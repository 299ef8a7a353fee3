/*
 * The Players example's page: a live list of players with Knockout and
 * snorky.js (an ES module; what it shares with the React and Vue pages is
 * in players-common.js).
 *
 * The list comes from GET /api/players with the header "X-Snorky:
 * Subscribe"; the answer carries a DataSync subscription token, which the
 * page acquires. From then on every change anyone commits arrives as a
 * delta and updates the list in place. Changes made here go through the
 * REST API only: they show on this page the same way as on every other,
 * through their deltas.
 */
import {
  RETRY_MS, api, config, endpoint, fetchPlayers, initialFilter, otherTransportUrl, showFilter
} from "./players-common.js";

// What the list holds for each player: its data and the rename field.
function row(player) {
  return {
    id: player.id,
    name: player.name,
    color: player.color,
    draftName: ko.observable(player.name)
  };
}

function PlayersPage() {
  const vm = this;
  vm.colors = config.colors;
  vm.players = ko.observableArray();
  vm.filter = ko.observable(initialFilter || undefined);
  vm.status = ko.observable("connecting");
  // Changes are offered only while connected: made while offline, they
  // would not show on this page until it reconnects.
  vm.online = ko.pureComputed(() => vm.status() === "online");
  vm.loaded = ko.observable(false);
  // Loading's error stays until a load succeeds; a change's error until
  // the next change, or until the input it was about is edited.
  vm.loadError = ko.observable("");
  vm.changeError = ko.observable("");
  vm.error = ko.pureComputed(() => vm.loadError() || vm.changeError());
  const clearChangeError = () => vm.changeError("");
  vm.newName = ko.observable("");
  vm.newColor = ko.observable(config.colors[0]);
  vm.transport = endpoint.name;
  vm.otherTransport = endpoint.other;
  vm.otherTransportUrl = ko.pureComputed(() => otherTransportUrl(vm.filter()));

  const snorky = new Snorky(endpoint.socket, endpoint.url, {datasync: Snorky.DataSync});
  const datasync = snorky.services.datasync;
  snorky.connected.add(() => vm.status("online"));
  snorky.disconnected.add(() => vm.status("offline"));
  snorky.reconnecting.add(() => vm.status("reconnecting"));

  function watchedRow(player) {
    const item = row(player);
    item.draftName.subscribe(clearChangeError);
    return item;
  }
  vm.newName.subscribe(clearChangeError);
  vm.newColor.subscribe(clearChangeError);

  const processor = new Snorky.DataSync.CollectionDeltaProcessor({
    Player: new Snorky.DataSync.KnockoutCollection(vm.players, {transformItem: watchedRow})
  });
  datasync.deltaReceived.add(processor.processDelta, processor);

  let token = null;
  let loading = Promise.resolve();
  let retry = null;

  // Replace the list and the subscription with those of the current
  // filter. The old subscription is cancelled first: once that is
  // answered no delta of it can arrive, and none of the new one arrives
  // before it is acquired, so no delta lands on the wrong list.
  async function load() {
    const old = token;
    token = null;
    if (old !== null) {
      await datasync.cancelSubscription({token: old}).then(null, () => {});
    }
    const color = vm.filter();
    vm.loaded(false);
    const answer = await fetchPlayers(color);
    vm.players(answer.players.map(watchedRow));
    vm.loaded(true);
    token = answer.token;
    await datasync.acquireSubscription({token: token});
    vm.loadError("");
  }

  function reload() {
    clearTimeout(retry);
    loading = loading.then(load).then(null, (err) => {
      vm.loadError("Could not load the players: " + err.message + " (retrying)");
      retry = setTimeout(reload, RETRY_MS);
    });
  }

  // After a long disconnection or a Snorky restart the subscription is
  // gone: fetch the list again, with a new one.
  datasync.subscriptionExpired.add(reload);

  vm.filter.subscribe((color) => {
    showFilter(color);
    reload();
  });

  function report(promise) {
    promise.then(clearChangeError, (err) => vm.changeError(err.message));
  }

  vm.add = () => {
    report(api("POST", "/api/players", {name: vm.newName().trim(), color: vm.newColor()})
      .then(() => vm.newName("")));
  };
  vm.rename = (player) => {
    report(api("PUT", "/api/players/" + player.id, {name: player.draftName().trim()}));
  };
  vm.recolor = (player, event) => {
    report(api("PUT", "/api/players/" + player.id, {color: event.target.value}));
  };
  vm.remove = (player) => {
    report(api("DELETE", "/api/players/" + player.id));
  };

  reload();
}

ko.applyBindings(new PlayersPage());
