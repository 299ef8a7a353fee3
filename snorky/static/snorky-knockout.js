/*
 * snorky-knockout.js: Snorky's Knockout adapter.
 *
 * Load it after knockout.js and snorky.js. It adds
 * `Snorky.DataSync.KnockoutCollection(observableArray, {transformItem})`,
 * a DataSync collection that changes the observable array in place, so
 * templates bound to it update themselves. In Node,
 * `require("snorky-knockout.js")(Snorky, ko)` installs it and returns the class.
 */
(function (root, install) {
  "use strict";
  if (typeof module === "object" && module.exports) {
    module.exports = install;
  } else {
    install(root.Snorky, root.ko);
  }
})(typeof globalThis !== "undefined" ? globalThis : this, function (Snorky, ko) {
  "use strict";

  /**
   * A DataSync collection over a Knockout `observableArray`; each delta is
   * one `push` or `splice`, so subscribers are told once per delta.
   */
  class KnockoutCollection extends Snorky.DataSync.ArrayCollection {
    constructor(observableArray, options) {
      if (!ko.isObservableArray(observableArray)) {
        throw new TypeError("KnockoutCollection takes a ko.observableArray");
      }
      super(observableArray, options);
    }

    items() {
      return this.array();
    }
  }

  Snorky.DataSync.KnockoutCollection = KnockoutCollection;
  return KnockoutCollection;
});
