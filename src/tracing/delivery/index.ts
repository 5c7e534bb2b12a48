/**
 * Delivery: outgoing channels (signed webhooks, e-mail through an org's SMTP server) with a
 * durable, retried and recorded queue, and server-sent-event streams for live views. Occupancy
 * alerts use it now; notices to exposed people will reuse it.
 */
export { ChannelService, type ChannelInput, type ChannelKind, type ChannelPatch, type ChannelView, type LoadedChannel, type SmtpTls } from './channels.ts';
export { DeliveryService, retryDelayMs, type AttemptView, type DeliveryMessage, type DeliveryView, type RecipientResolver } from './service.ts';
export { WebhookClient, isPrivateAddress, sendMail, type MailMessage, type Outcome, type SmtpTarget } from './sender.ts';
export { CAIRN_SIGNATURE_HEADER, MIST_COMPATIBLE_SIGNATURE_HEADER, signatureHeaders, verifyCairnSignature, verifyMistCompatibleSignature } from './signing.ts';
export { SseStream, type SseOptions, type SseTarget } from './sse.ts';
