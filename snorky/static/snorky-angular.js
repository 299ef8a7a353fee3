/*
 * snorky-angular.js: Snorky's AngularJS adapter.
 *
 * Load it after angular.js and snorky.js and depend on the module "Snorky":
 *
 *   angular.module("app", ["Snorky"]).controller("Ctrl", function (Snorky) {...});
 *
 * Once the module runs, RPC calls return `$q` promises and every signal
 * dispatch runs inside a digest, so views bound to data changed by a
 * listener (or by a DataSync collection) update without `$apply`.
 * The module also provides `Snorky` as an injectable constant. In Node,
 * `require("snorky-angular.js")(Snorky, angular)` defines the module.
 */
(function (root, install) {
  "use strict";
  if (typeof module === "object" && module.exports) {
    module.exports = install;
  } else {
    install(root.Snorky, root.angular);
  }
})(typeof globalThis !== "undefined" ? globalThis : this, function (Snorky, angular) {
  "use strict";

  return angular.module("Snorky", [])
    .constant("Snorky", Snorky)
    .run(["$q", "$rootScope", function ($q, $rootScope) {
      Snorky.Promise = $q;
      Snorky.Signal.wrapDispatch = function (run) {
        // A dispatch from inside a digest (a $q callback, say) is already
        // covered by that digest; $apply there would throw.
        if ($rootScope.$$phase) {
          run();
        } else {
          $rootScope.$apply(run);
        }
      };
    }]);
});
