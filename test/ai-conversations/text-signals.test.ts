/**
 * The bilingual signals the AI's handoff and orchestration rules read: customers asking for a
 * human (Indonesian, English, slang and typos), messages that only mention people or staff,
 * negative sentiment with negation, keywords as whole words, and intent labels.
 */
import { expect } from 'chai';
import { asksForHuman, containsPhrase, intentsOf, negativity, normalizeText } from '../../src/services/ai-text-signals.js';

describe('AI text signals', () => {
  it('normalizes case, accents, punctuation, emphasis and chat spellings', () => {
    expect(normalizeText('Tolongggg!!! Gk bisa ORG?')).to.equal('tolong tidak bisa orang');
    expect(normalizeText('Café — mw sm admin')).to.equal('cafe mau sama admin');
  });

  it('hears a customer asking for a human, in Indonesian and English, informal or not', () => {
    const asks = [
      'mau ngomong sama orang',
      'bisa minta CS manusia?',
      'Talk to a human please',
      'can I speak to an agent',
      'saya mau bicara dengan admin',
      'tolong sambungkan ke operator',
      'mw ngmg sm org aja dong',
      'pengen chat sama CS langsung',
      'ini bukan bot kan? aku mau orang asli',
      'I want a real person',
      'let me talk to someone',
      'connect me with customer service',
      'minta admin dong kak',
      'hubungi petugas',
      'transfer me to a live agent',
    ];
    for (const text of asks) expect(asksForHuman(text), text).to.equal(true);
  });

  it('does not hear one in orders, questions about people, or greetings', () => {
    const not = [
      'mau pesan untuk 2 orang',
      'berapa harga tiket per orang?',
      'halo selamat pagi',
      'sudah transfer ke rekening admin ya',
      'What are your opening hours?',
      'apakah bisa kirim ke Bandung?',
      'orangnya ramah banget, makasih',
      'my agent code is 1234',
    ];
    for (const text of not) expect(asksForHuman(text), text).to.equal(false);
  });

  it('scores negative sentiment, negation flipping it', () => {
    expect(negativity('Saya kecewa banget, pelayanannya parah!!!')).to.be.at.least(3);
    expect(negativity('this is the worst service, total scam')).to.be.at.least(4);
    expect(negativity('ga puas sama sekali')).to.be.at.least(2);
    expect(negativity('tidak buruk kok, bagus')).to.be.at.most(0);
    expect(negativity('not bad at all, thanks')).to.be.at.most(0);
    expect(negativity('berapa harga kaos hitam ukuran L?')).to.equal(0);
  });

  it('matches keywords as whole words after normalization, and reads intents', () => {
    expect(containsPhrase('Saya mau REFUND dong', 'refund')).to.equal(true);
    expect(containsPhrase('refunding', 'refund')).to.equal(false);
    expect(containsPhrase('ongkir ke Medan berapa', 'ongkos kirim')).to.equal(true);
    expect(intentsOf('brp harga kaos ini?')).to.include('pricing');
    expect(intentsOf('mau refund, barangnya rusak')).to.include.members(['refund']);
    expect(intentsOf('resi pesanan saya mana')).to.include('order_status');
    expect(intentsOf('mau ngomong sama orang')).to.include('human_request');
  });
});
