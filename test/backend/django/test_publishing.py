"""
Integration tests of subscribable models: their saves and deletes reach
a real Snorky as deltas, seen by a real WebSocket client.
"""

import datetime
import decimal
import uuid

from twisted.trial.unittest import TestCase

from test.backend.django.helpers import DjangoSnorkyTestCase
from test.backend.django.models import Note, Player, Squad

JOINED = datetime.datetime(2024, 5, 1, 12, 30, 15, 250000, tzinfo=datetime.timezone.utc)
UID = uuid.UUID("12345678-1234-5678-1234-567812345678")


def alice(**changes):
    """Alice's data as a delta carries it, with *changes*."""
    data = {"id": 1, "name": "Alice", "color": "red", "score": "1.50",
            "joined": "2024-05-01T12:30:15.250Z", "uid": str(UID)}
    data.update(changes)
    return data


def create_alice():
    return Player.objects.create(
        name="Alice", color="red", score=decimal.Decimal("1.50"), joined=JOINED, uid=UID
    )


class SubscribablePublishingTests(DjangoSnorkyTestCase, TestCase):
    """
    Creating, saving and deleting instances of a subscribable model
    publishes insert, update and delete deltas.
    """

    async def test_insert_update_delete(self):
        """A create, a save with other data and a delete arrive as their deltas, dates, decimals and UUIDs as Django's JSON encoder writes them."""
        browser = await self.browser("AllPlayers")

        def change():
            player = create_alice()
            player.color = "blue"
            player.save()
            player.delete()

        await self.django(change)
        self.assertEqual(
            await self.deltas(browser, 3),
            [
                {"type": "insert", "model": "Player", "data": alice()},
                {"type": "update", "model": "Player",
                 "oldData": alice(), "newData": alice(color="blue")},
                {"type": "delete", "model": "Player", "data": alice(color="blue")},
            ],
        )

    async def test_old_data_as_loaded(self):
        """The oldData of an update is the row as the instance loaded it, not as the database has it now."""
        browser = await self.browser("AllPlayers")

        def change():
            create_alice()
            player = Player.objects.get(pk=1)
            # A change that publishes nothing, behind the instance's back.
            Player.objects.filter(pk=1).update(color="green")
            player.name = "Alicia"
            player.save()

        await self.django(change)
        deltas = await self.deltas(browser, 2)
        self.assertEqual(
            deltas[1],
            {"type": "update", "model": "Player",
             "oldData": alice(), "newData": alice(name="Alicia")},
        )

    async def test_unchanged_save_and_unmarked_models(self):
        """Saving unchanged data, queryset updates and models not marked publish nothing."""
        browser = await self.browser("AllPlayers")

        def change():
            player = create_alice()
            player.save()
            Player.objects.update(color="green")
            Note.objects.create(text="not subscribable")
            Player.objects.create(name="Last", color="red")

        await self.django(change)
        deltas = await self.deltas(browser, 2)
        self.assertEqual([d["data"]["name"] for d in deltas], ["Alice", "Last"])
        self.assertEqual(self.frontend.batches, [["InsertionDelta"]] * 2)

    async def test_name_and_serializer(self):
        """A model marked with a name and a serializer publishes under that name, with that data."""
        browser = await self.browser("AllTeams")

        def change():
            squad = Squad.objects.create(title="Reds")
            squad.title = "Blues"
            squad.save()

        await self.django(change)
        self.assertEqual(
            await self.deltas(browser, 2),
            [
                {"type": "insert", "model": "Team", "data": {"id": 1, "title": "Reds"}},
                {"type": "update", "model": "Team",
                 "oldData": {"id": 1, "title": "Reds"},
                 "newData": {"id": 1, "title": "Blues"}},
            ],
        )

    async def test_queryset_delete(self):
        """Deleting through a queryset publishes a delete of each row, with its data."""
        browser = await self.browser("AllPlayers")

        def change():
            create_alice()
            Player.objects.filter(color="red").delete()

        await self.django(change)
        self.assertEqual(
            (await self.deltas(browser, 2))[1],
            {"type": "delete", "model": "Player", "data": alice()},
        )
