import { fireEvent, render, screen, within } from '@testing-library/svelte';
import { describe, expect, it } from 'vitest';
import type { ActivityEvent } from '$lib/api/client';
import { Resource } from '$lib/resource.svelte';
import ActivityTimeline from './ActivityTimeline.svelte';

const now = Date.parse('2026-11-29T12:00:00Z');
const current = '10000000-0000-4000-8000-000000000000';

async function loaded(events: ActivityEvent[]) {
	const activity = new Resource(async () => ({ ok: true as const, data: events }));
	await activity.refresh();
	return activity;
}

describe('ActivityTimeline', () => {
	it('reads as a timeline: what, when, where, and which events were this session', async () => {
		const activity = await loaded([
			{ id: '2', kind: 'signed_in', at: '2026-11-29T11:55:00Z', ip: '203.0.113.7', device: 'Firefox 128 on Linux', session_id: current },
			{ id: '1', kind: 'sign_in_failed', at: '2026-11-28T10:00:00Z', ip: '198.51.100.4' }
		]);
		render(ActivityTimeline, { activity, currentSession: current, now });

		const region = screen.getByRole('region', { name: 'Recent activity' });
		const items = within(region).getAllByRole('listitem');
		expect(items.map((li) => li.textContent?.replace(/\s+/g, ' ').trim())).toEqual([
			'Signed in 5 minutes ago · Firefox 128 on Linux · 203.0.113.7 · current session',
			'Failed sign-in attempt (worth a look) yesterday · 198.51.100.4'
		]);
		expect(items[0].querySelector('time')?.getAttribute('datetime')).toBe('2026-11-29T11:55:00Z');
	});

	it('shows a kind added to the API later by its name', async () => {
		const activity = await loaded([
			{ id: '1', kind: 'security_key_lost' as ActivityEvent['kind'], at: '2026-11-29T11:00:00Z' }
		]);
		render(ActivityTimeline, { activity, currentSession: null, now });
		expect(screen.getByText('Security key lost')).toBeTruthy();
	});

	it('shows the newest ten, the rest on request', async () => {
		const events = Array.from({ length: 12 }, (_, i) => ({
			id: String(i),
			kind: 'signed_in' as const,
			at: '2026-11-29T11:00:00Z'
		}));
		render(ActivityTimeline, { activity: await loaded(events), currentSession: null, now });
		expect(screen.getAllByRole('listitem')).toHaveLength(10);
		await fireEvent.click(screen.getByRole('button', { name: 'Show all 12 events' }));
		expect(screen.getAllByRole('listitem')).toHaveLength(12);
	});

	it('offers to try again when the activity could not be loaded', async () => {
		const activity = new Resource<ActivityEvent[]>(async () => ({
			ok: false,
			failure: { message: 'Down for a moment.', fields: [] }
		}));
		await activity.refresh();
		render(ActivityTimeline, { activity, currentSession: null, now });
		expect(screen.getByText(/Could not load your activity: Down for a moment\./)).toBeTruthy();
		expect(screen.getByRole('button', { name: 'Try again' })).toBeTruthy();
	});
});
