"""
Integration tests of publishing after commit: when deltas go, in how many
calls, and what happens when Snorky cannot be reached.
"""

from django.db import transaction
from twisted.internet import reactor
from twisted.internet.threads import blockingCallFromThread
from twisted.trial.unittest import TestCase

from test.backend.django.helpers import KEY, DjangoSnorkyTestCase
from test.backend.django.models import Player
from test.backend.integration import refused_url


class Rollback(Exception):
    """Raised to roll an atomic block back."""


def create(name):
    return Player.objects.create(name=name, color="red")


def names(deltas):
    return [(d["type"], (d.get("data") or d["newData"])["name"]) for d in deltas]


class AfterCommitTests(DjangoSnorkyTestCase, TestCase):
    """
    Deltas made in a transaction go after it commits, in one call and in
    order; none of a rolled-back transaction or savepoint.
    """

    async def test_one_batch_after_commit(self):
        """A transaction's deltas are published once, after commit, in one call and in order."""
        browser = await self.browser("AllPlayers")
        published_inside = []

        def change():
            with transaction.atomic():
                alice = create("Alice")
                alice.name = "Alicia"
                alice.save()
                create("Bob")
                alice.delete()
                published_inside.append(
                    blockingCallFromThread(reactor, lambda: len(self.frontend.batches))
                )

        await self.django(change)
        self.assertEqual(published_inside, [0])
        self.assertEqual(
            self.frontend.batches,
            [["InsertionDelta", "UpdateDelta", "InsertionDelta", "DeletionDelta"]],
        )
        self.assertEqual(
            names(await self.deltas(browser, 4)),
            [("insert", "Alice"), ("update", "Alicia"), ("insert", "Bob"),
             ("delete", "Alicia")],
        )

    async def test_rolled_back_transaction(self):
        """A rolled-back transaction publishes nothing."""
        browser = await self.browser("AllPlayers")

        def change():
            try:
                with transaction.atomic():
                    create("Ghost").delete()
                    create("Phantom")
                    raise Rollback()
            except Rollback:
                pass
            create("Last")

        await self.django(change)
        self.assertEqual(names(await self.deltas(browser, 1)), [("insert", "Last")])
        self.assertEqual(self.frontend.batches, [["InsertionDelta"]])

    async def test_rolled_back_savepoint(self):
        """The changes of a rolled-back savepoint are left out; the rest of the transaction goes in one call."""
        browser = await self.browser("AllPlayers")

        def change():
            with transaction.atomic():
                create("Alice")
                try:
                    with transaction.atomic():
                        create("Ghost")
                        raise Rollback()
                except Rollback:
                    pass
                create("Bob")

        await self.django(change)
        self.assertEqual(
            names(await self.deltas(browser, 2)), [("insert", "Alice"), ("insert", "Bob")]
        )
        self.assertEqual(self.frontend.batches, [["InsertionDelta"] * 2])

    async def test_released_savepoint(self):
        """The changes of a released savepoint go with the rest of the transaction, in order."""
        browser = await self.browser("AllPlayers")

        def change():
            with transaction.atomic():
                with transaction.atomic():
                    create("Alice")
                    with transaction.atomic():
                        create("Bob")
                create("Carol")

        await self.django(change)
        self.assertEqual(
            names(await self.deltas(browser, 3)),
            [("insert", "Alice"), ("insert", "Bob"), ("insert", "Carol")],
        )
        self.assertEqual(self.frontend.batches, [["InsertionDelta"] * 3])

    async def test_transactions_apart(self):
        """A transaction rolled back after another committed does not hold back or leak into the next one."""
        browser = await self.browser("AllPlayers")

        def change():
            with transaction.atomic():
                create("Alice")
            try:
                with transaction.atomic():
                    create("Ghost")
                    raise Rollback()
            except Rollback:
                pass
            with transaction.atomic():
                create("Bob")

        await self.django(change)
        self.assertEqual(
            names(await self.deltas(browser, 2)), [("insert", "Alice"), ("insert", "Bob")]
        )
        self.assertEqual(self.frontend.batches, [["InsertionDelta"]] * 2)


class PublishFailureTests(DjangoSnorkyTestCase, TestCase):
    """
    When Snorky cannot be reached or refuses the key, the application's
    changes go on; the failure is logged without the key.
    """

    async def test_server_down(self):
        """Saving while nothing listens at the backend URL commits and logs the lost deltas."""
        self.use_settings(SNORKY_BACKEND_URL=refused_url())

        def change():
            create("Alice")
            with transaction.atomic():
                create("Bob")
            return Player.objects.count()

        self.assertEqual(await self.django(change), 2)
        self.assertEqual(len(self.log.lines), 2, self.log.lines)
        for line in self.log.lines:
            self.assertIn("ERROR Snorky: 1 delta(s) not published", line)
            self.assertIn("cannot be reached", line)
            self.assertNotIn(KEY, line)

    async def test_wrong_key(self):
        """A refused key is logged without the key that was sent."""
        wrong = "wrong-key-that-must-stay-secret-42"
        self.use_settings(SNORKY_API_KEY=wrong)
        await self.django(create, "Alice")
        self.assertEqual(len(self.log.lines), 1)
        self.assertIn("refused the key (HTTP 401)", self.log.lines[0])
        self.assertNotIn(wrong, self.log.lines[0])

    async def test_not_configured(self):
        """Missing settings are logged with the names of the settings, and the save succeeds."""
        self.use_settings(SNORKY_BACKEND_URL=None)
        player = await self.django(create, "Alice")
        self.assertEqual(player.pk, 1)
        self.assertEqual(len(self.log.lines), 1)
        self.assertIn("SNORKY_BACKEND_URL", self.log.lines[0])
        self.assertNotIn(KEY, self.log.lines[0])
